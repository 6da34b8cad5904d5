//! Snapshots through the public API: a snapshot opens as a store and holds every sample.

mod common;

use common::{backfill_opts, dump, series};
use std::fs;
use tsdb::{Appendable, Db, Snapshottable};

const H: i64 = 3600 * 1000;

/// Appends 10 series at a 60 s interval over `[from, to)`, one commit per scrape.
fn scrape(db: &Db, from: i64, to: i64) {
    let mut t = from;
    while t < to {
        let mut app = db.appender();
        for i in 0..10 {
            app.append(&series(i), t, (t / 60_000 * (i as i64 + 1)) as f64 * 0.5)
                .unwrap();
        }
        app.commit().unwrap();
        t += 60_000;
    }
}

#[test]
fn snapshot_with_head_holds_blocks_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("db"), backfill_opts()).unwrap();
    scrape(&db, 0, 3 * H + 60_001);
    db.maintain().unwrap();
    assert_eq!(db.stats().blocks, 1);
    // More head data spanning two block ranges.
    scrape(&db, 3 * H + 120_000, 5 * H);
    let before = dump(&db, i64::MIN, i64::MAX);
    assert_eq!(before.len(), 10);

    let snap = dir.path().join("snap");
    db.snapshot(&snap, true).unwrap();
    // The existing block is shared, not copied.
    let block = fs::read_dir(db.dir().join("blocks"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let linked = snap.join("blocks").join(block.file_name()).join("chunks");
    use std::os::unix::fs::MetadataExt;
    assert!(fs::metadata(&linked).unwrap().nlink() >= 2);

    let copy = Db::open(&snap, backfill_opts()).unwrap();
    assert_eq!(dump(&copy, i64::MIN, i64::MAX), before);
    let st = copy.stats();
    assert_eq!(
        st.num_series, 0,
        "the snapshot has no WAL, all is in blocks"
    );
    assert_eq!(
        st.block_samples,
        before.iter().map(|s| s.1.len() as u64).sum::<u64>()
    );
    drop(copy);

    // The source store is untouched and a second snapshot into the same dir is refused.
    assert_eq!(dump(&db, i64::MIN, i64::MAX), before);
    assert!(db.snapshot(&snap, true).is_err());
}

#[test]
fn snapshot_without_head_holds_only_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("db"), backfill_opts()).unwrap();
    scrape(&db, 0, 3 * H + 60_001);
    db.maintain().unwrap();
    let in_blocks = dump(&db, i64::MIN, 2 * H - 1);
    let snap = dir.path().join("snap");
    db.snapshot(&snap, false).unwrap();
    let copy = Db::open(&snap, backfill_opts()).unwrap();
    assert_eq!(dump(&copy, i64::MIN, i64::MAX), in_blocks);
    assert_eq!(copy.stats().block_samples, 10 * 120);
}

#[test]
fn snapshot_api_names_the_dir_under_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), backfill_opts()).unwrap();
    scrape(&db, 0, H);
    let before = dump(&db, i64::MIN, i64::MAX);
    let name = Snapshottable::snapshot(&db, true).unwrap();
    let (stamp, salt) = name.split_once('-').unwrap();
    assert_eq!(stamp.len(), 16, "{name}");
    assert!(stamp.ends_with('Z'), "{name}");
    assert_eq!(salt.len(), 16, "{name}");
    let snap = dir.path().join("snapshots").join(&name);
    // All data is in the head, which was skipped: an empty but openable store.
    let copy = Db::open(&snap, backfill_opts()).unwrap();
    assert!(dump(&copy, i64::MIN, i64::MAX).is_empty());
    drop(copy);
    let with_head = Snapshottable::snapshot(&db, false).unwrap();
    let copy = Db::open(
        &dir.path().join("snapshots").join(with_head),
        backfill_opts(),
    )
    .unwrap();
    assert_eq!(dump(&copy, i64::MIN, i64::MAX), before);
}

#[test]
fn snapshot_during_appends_holds_what_was_committed_before() {
    let dir = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(Db::open(&dir.path().join("db"), backfill_opts()).unwrap());
    scrape(&db, 0, H);
    let before = dump(&*db, i64::MIN, i64::MAX);
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || scrape(&db, H, 2 * H))
    };
    let snap = dir.path().join("snap");
    db.snapshot(&snap, true).unwrap();
    writer.join().unwrap();
    let copy = Db::open(&snap, backfill_opts()).unwrap();
    let got = dump(&copy, i64::MIN, H - 1);
    assert_eq!(got, before);
}
