//! Child processes with a time limit. `Command::output` waits as long as the child
//! takes; fanout's children (a sweep point, a Python peer, the peers' set-up) each get a
//! limit instead, past which they are killed and the run says why.

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::error::Error;

/// The child's side of the hand-over: the first line of stdin, parsed as JSON. `what`
/// names it in errors ("the config from the parent").
pub fn read_json_line<T: serde::de::DeserializeOwned>(what: &str) -> Result<T, Error> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::io(format!("reading {what}"), e))?;
    serde_json::from_str(&line).map_err(|e| Error::Internal(format!("{what} does not parse: {e}")))
}

/// How often a waiting parent looks at its child.
const POLL: Duration = Duration::from_millis(20);

/// Runs `command` to completion and returns its output, or kills it after `limit`.
/// The child's stdin is empty.
pub fn output_within(command: &mut Command, limit: Duration, what: &str) -> Result<Output, Error> {
    command.stdin(Stdio::null());
    run_within(command, None, limit, what)
}

/// [`output_within`], with `stdin` written to the child's stdin, which then closes.
pub fn output_within_stdin(
    command: &mut Command,
    stdin: Vec<u8>,
    limit: Duration,
    what: &str,
) -> Result<Output, Error> {
    command.stdin(Stdio::piped());
    run_within(command, Some(stdin), limit, what)
}

fn run_within(
    command: &mut Command,
    stdin: Option<Vec<u8>>,
    limit: Duration,
    what: &str,
) -> Result<Output, Error> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(format!("starting {what}"), e))?;
    // Written on a thread of its own, so a child that never reads cannot hold the
    // parent past the limit; the pipe closes when the thread ends. A child that exits
    // without reading ends the write with an error its status already tells.
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    // Drain both pipes on threads of their own, so a chatty child never blocks on a
    // full pipe while we wait for it.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child
            .try_wait()
            .map_err(|e| Error::io(format!("waiting for {what}"), e))?
        {
            Some(status) => break status,
            None if started.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Child {
                    what: what.to_string(),
                    why: format!(
                        "did not finish within {:.0} s and was stopped",
                        limit.as_secs_f64()
                    ),
                });
            }
            None => std::thread::sleep(POLL),
        }
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_past_its_limit_is_stopped() {
        let started = Instant::now();
        let mut sleeper = Command::new("sleep");
        sleeper.arg("30");
        let error =
            output_within(&mut sleeper, Duration::from_millis(200), "a sleeper").unwrap_err();
        assert!(error.to_string().contains("did not finish"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_quick_child_gives_its_output() {
        let mut echo = Command::new("echo");
        echo.arg("hello");
        let output = output_within(&mut echo, Duration::from_secs(10), "echo").unwrap();
        assert!(output.status.success());
        assert_eq!(output.stdout, b"hello\n");
    }

    #[test]
    fn stdin_reaches_the_child_and_then_closes() {
        let mut cat = Command::new("cat");
        let output = output_within_stdin(
            &mut cat,
            b"a line\n".to_vec(),
            Duration::from_secs(10),
            "cat",
        )
        .unwrap();
        assert!(output.status.success());
        assert_eq!(output.stdout, b"a line\n");
    }
}
