//! `Querier::select_split`: the same series and samples as `select`, read by index from
//! several threads at once, over blocks and the head together.

mod common;

use common::{backfill_opts, series};
use model::{Labels, MatchOp, Matcher, Sample};
use tsdb::{Appendable, Db, Queryable, SelectHints};

const H: i64 = 3600 * 1000;

/// 300 series at 30 s over `[from, to)`; series `i` starts at `i * 40 s` so some series have
/// no samples near the start of a range.
fn fill(db: &Db, from: i64, to: i64) {
    let mut t = from;
    while t < to {
        let mut app = db.appender();
        for i in 0..300usize {
            if t >= i as i64 * 40_000 {
                app.append(&series(i), t, (t / 1000) as f64 * 1.5 + i as f64)
                    .unwrap();
            }
        }
        app.commit().unwrap();
        t += 30_000;
    }
}

fn via_select(
    q: &dyn Queryable,
    mint: i64,
    maxt: i64,
    m: &[Matcher],
) -> Vec<(Labels, Vec<Sample>)> {
    let querier = q.querier(mint, maxt).unwrap();
    querier
        .select(&SelectHints::default(), m)
        .map(|s| {
            let s = s.unwrap();
            (s.labels, s.samples)
        })
        .collect()
}

/// The split select's non-empty series, their samples read by two threads in an interleaved
/// order (odd indexes on one, even on the other).
fn via_split(q: &dyn Queryable, mint: i64, maxt: i64, m: &[Matcher]) -> Vec<(Labels, Vec<Sample>)> {
    let querier = q.querier(mint, maxt).unwrap();
    let split = querier
        .select_split(&SelectHints::default(), m)
        .expect("the Db splits selects");
    let n = split.labels.len();
    let reader = &split.reader;
    let read = |parity: usize| -> Vec<(usize, Vec<Sample>)> {
        (0..n)
            .filter(|i| i % 2 == parity)
            .map(|i| (i, reader.samples(i).unwrap()))
            .collect()
    };
    let (even, odd) = std::thread::scope(|s| {
        let a = s.spawn(|| read(0));
        let b = s.spawn(|| read(1));
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut all: Vec<(usize, Vec<Sample>)> = even.into_iter().chain(odd).collect();
    all.sort_by_key(|x| x.0);
    assert!(
        split.reader.samples(n).is_err(),
        "an index past the end is an error"
    );
    all.into_iter()
        .filter(|(_, s)| !s.is_empty())
        .map(|(i, s)| (split.labels[i].clone(), s))
        .collect()
}

#[test]
fn split_select_reads_what_select_reads() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), backfill_opts()).unwrap();
    fill(&db, 0, 3 * H + 60_000);
    // Cut a block: the ranges below read blocks, the head, or both.
    db.maintain().unwrap();
    assert!(db.stats().blocks >= 1, "{:?}", db.stats());
    fill(&db, 3 * H + 60_000, 4 * H);
    let all = [Matcher::new(MatchOp::Equal, "__name__", "m").unwrap()];
    let some = [
        Matcher::new(MatchOp::Equal, "__name__", "m").unwrap(),
        Matcher::new(MatchOp::Regex, "i", "1.*").unwrap(),
    ];
    let none = [Matcher::new(MatchOp::Equal, "__name__", "nothing").unwrap()];
    for (mint, maxt) in [
        (0, 4 * H),
        (0, 600_000),
        (H, 2 * H + 30_000),
        (2 * H - 300_000, 3 * H + 300_000),
        (3 * H + 120_000, 4 * H),
    ] {
        for m in [&all[..], &some[..], &none[..]] {
            let want = via_select(&db, mint, maxt, m);
            let got = via_split(&db, mint, maxt, m);
            assert_eq!(got.len(), want.len(), "range {mint}..{maxt}");
            assert_eq!(got, want, "range {mint}..{maxt}");
        }
    }
    // The early range leaves out late-starting series: the split lists them without samples.
    assert!(via_select(&db, 0, 600_000, &all).len() < 300);
}
