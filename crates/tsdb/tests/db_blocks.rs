//! Blocks through the public API: head cuts, WAL checkpoints, merging, retention, reopen.

mod common;

use common::{backfill_opts, dump, series};
use std::fs;
use tsdb::{AppendError, Appendable, Db, DbOptions};

const H: i64 = 3600 * 1000;

/// Appends 10 series at a 60 s interval over `[from, to)`, one commit per scrape.
fn scrape(db: &Db, from: i64, to: i64) {
    let mut t = from;
    while t < to {
        let mut app = db.appender();
        for i in 0..10 {
            app.append(&series(i), t, (t / 60_000 + i as i64) as f64)
                .unwrap();
        }
        app.commit().unwrap();
        t += 60_000;
    }
}

fn wal_files(db: &Db) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(db.dir().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn head_cut_checkpoint_merge_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), backfill_opts()).unwrap();
    scrape(&db, 0, 3 * H + 60_001);
    let before = dump(&db, i64::MIN, i64::MAX);
    assert_eq!(before[0].1.len(), 182);
    db.maintain().unwrap();
    let st = db.stats();
    assert_eq!(st.blocks, 1, "{st:?}");
    assert_eq!(st.block_samples, 10 * 120);
    assert_eq!(dump(&db, i64::MIN, i64::MAX), before);
    assert!(
        wal_files(&db).iter().any(|f| f.starts_with("checkpoint.")),
        "{:?}",
        wal_files(&db)
    );
    // Below the cut is refused now.
    let mut app = db.appender();
    assert_eq!(
        app.append(&series(0), H, 1.0),
        Err(AppendError::OutOfBounds)
    );
    app.rollback();

    // Reopen: blocks + checkpoint + remaining segments give the same data.
    drop(db);
    let db = Db::open(dir.path(), backfill_opts()).unwrap();
    assert_eq!(dump(&db, i64::MIN, i64::MAX), before);
    assert_eq!(dump(&db, H, 2 * H), {
        let q: Vec<_> = before
            .iter()
            .map(|(l, s)| {
                (
                    l.clone(),
                    s.iter()
                        .filter(|x| x.0 >= H && x.0 <= 2 * H)
                        .copied()
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        q
    });

    // 14 hours: 2 h blocks get merged into 6 h blocks once a 6 h window is complete.
    scrape(&db, 3 * H + 120_000, 14 * H);
    let all = dump(&db, i64::MIN, i64::MAX);
    db.maintain().unwrap();
    let st = db.stats();
    assert!(st.blocks < 6, "merged: {st:?}");
    let names: Vec<String> = fs::read_dir(dir.path().join("blocks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.ends_with("-l2")), "{names:?}");
    assert_eq!(dump(&db, i64::MIN, i64::MAX), all);
    drop(db);
    let db = Db::open(dir.path(), backfill_opts()).unwrap();
    assert_eq!(dump(&db, i64::MIN, i64::MAX), all);
    assert!(db.stats().block_bytes > 0);
}

#[test]
fn closed_head_chunks_live_in_files_rebuilt_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), backfill_opts()).unwrap();
    // 150 samples a series: one closed chunk of 120 and an open one.
    scrape(&db, 0, 150 * 60_000);
    let before = dump(&db, i64::MIN, i64::MAX);
    assert_eq!(before[0].1.len(), 150);
    let chunks = dir.path().join("chunks_head");
    let files: Vec<_> = fs::read_dir(&chunks).unwrap().collect();
    assert_eq!(files.len(), 1);
    let st = db.stats();
    assert!(st.head_chunk_file_bytes > 8, "{st:?}");
    // A stale file of an earlier process goes at open; replay writes the chunks again.
    fs::write(chunks.join("99999999"), b"stale").unwrap();
    drop(db);
    let db = Db::open(dir.path(), backfill_opts()).unwrap();
    assert!(!chunks.join("99999999").exists());
    assert_eq!(dump(&db, i64::MIN, i64::MAX), before);
    assert_eq!(db.stats().head_chunk_file_bytes, st.head_chunk_file_bytes);
}

#[test]
fn retention_by_time_and_size_deletes_old_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        DbOptions {
            retention_ms: 5 * H,
            ..backfill_opts()
        },
    )
    .unwrap();
    scrape(&db, 0, 12 * H);
    db.maintain().unwrap();
    let data = dump(&db, i64::MIN, i64::MAX);
    let oldest = data[0].1[0].0;
    assert!(oldest >= 12 * H - 5 * H - 2 * H, "oldest kept {oldest}");
    assert!(oldest > 0);
    drop(db);

    let db = Db::open(
        dir.path(),
        DbOptions {
            retention_bytes: 1,
            ..backfill_opts()
        },
    )
    .unwrap();
    db.maintain().unwrap();
    assert_eq!(db.stats().blocks, 0);
    // The head still has the recent data.
    assert!(!dump(&db, i64::MIN, i64::MAX).is_empty());
}

#[test]
fn leftovers_are_cleaned_and_damaged_blocks_skipped_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), backfill_opts()).unwrap();
        scrape(&db, 0, 8 * H);
        db.maintain().unwrap();
        assert!(db.stats().blocks >= 2);
    }
    let blocks = dir.path().join("blocks");
    for leftover in ["b-1-2-l1.tmp", "b-3-4-l1.deleting"] {
        fs::create_dir(blocks.join(leftover)).unwrap();
        fs::write(blocks.join(leftover).join("index"), b"x").unwrap();
    }
    let mut names: Vec<_> = fs::read_dir(&blocks)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().contains('.'))
        .collect();
    names.sort();
    fs::write(names[0].join("index"), b"garbage").unwrap();
    let db = Db::open(dir.path(), backfill_opts()).unwrap();
    assert_eq!(db.stats().blocks, names.len() - 1);
    assert!(!blocks.join("b-1-2-l1.tmp").exists());
    assert!(!blocks.join("b-3-4-l1.deleting").exists());
    // The damaged block is left for inspection, not deleted.
    assert!(names[0].exists());
}

#[test]
fn exemplars_and_metadata_survive_checkpoints() {
    use model::{Exemplar, Labels, Matcher, Metadata, MetricType};
    use tsdb::interface::{ExemplarQueryable, MetadataQueryable};
    let dir = tempfile::tempdir().unwrap();
    let m = Metadata {
        metric_type: MetricType::Gauge,
        help: "Things.".into(),
        unit: String::new(),
    };
    let e = Exemplar {
        labels: Labels::from_pairs([("trace_id", "abc")]),
        value: 3.0,
        t: 3 * H,
    };
    {
        let db = Db::open(dir.path(), backfill_opts()).unwrap();
        let mut app = db.appender();
        app.update_metadata("m", &m).unwrap();
        app.commit().unwrap();
        scrape(&db, 0, 3 * H);
        let mut app = db.appender();
        app.append_exemplar(&series(0), &e).unwrap();
        app.commit().unwrap();
        scrape(&db, 3 * H, 4 * H);
        db.maintain().unwrap();
        assert!(db.stats().blocks >= 1);
        assert!(
            !wal_files(&db).contains(&"00000001".to_string()),
            "old segments replaced by the checkpoint: {:?}",
            wal_files(&db)
        );
    }
    let db = Db::open(dir.path(), backfill_opts()).unwrap();
    assert_eq!(db.metadata(None, None), vec![("m".to_string(), vec![m])]);
    let got = db
        .exemplars(0, i64::MAX, &[vec![Matcher::equal("i", "0")]])
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].exemplars, vec![e]);
}
