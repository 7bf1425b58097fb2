use super::*;

fn entry(seq: u64, arrival_us: u64, finish_us: u64, status: Option<u16>) -> LedgerEntry {
    LedgerEntry {
        seq: Some(seq),
        copy: 0,
        endpoint: Some(0),
        connection: Some(0),
        arrival_us,
        delay_us: 0,
        stalled_us: 0,
        finish_us,
        status,
        request_bytes: 0,
        fault: None,
    }
}

#[test]
fn the_ledger_becomes_one_sample_per_request_number() {
    let ledger = LedgerRecord {
        entries: vec![
            entry(0, 1_000, 2_000, Some(200)),
            entry(2, 1_500, 1_800, Some(503)),
            entry(2, 1_900, 3_000, Some(200)),
        ],
        ..LedgerRecord::default()
    };
    let samples = samples_by_seq(&ledger, 3, 1_000);
    assert_eq!(samples.len(), 3);
    assert_eq!((samples[0].outcome, samples[0].attempts), (Outcome::Ok, 1));
    assert_eq!(
        (samples[1].outcome, samples[1].attempts),
        (Outcome::Cancelled, 0)
    );
    assert_eq!((samples[2].outcome, samples[2].attempts), (Outcome::Ok, 2));
    assert_eq!(samples[2].start, Duration::from_micros(500));
    assert_eq!(samples[2].end, Duration::from_micros(2_000));
    let check = check_ledger(&ledger, 3, 0);
    assert_eq!(
        check,
        LedgerCheck {
            received: 3,
            distinct: 2,
            missing: 1,
            duplicated: 1
        }
    );
    assert_eq!(check_ledger(&ledger, 3, 1).duplicated, 0);
}
