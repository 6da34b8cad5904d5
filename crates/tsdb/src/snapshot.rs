//! Snapshots: a copy of the store at one moment that opens as a store of its own, as
//! Prometheus' `POST /api/v1/admin/tsdb/snapshot` makes.
//!
//! A snapshot directory has the layout of a data dir without a WAL: `blocks/<name>/` for every
//! block. Blocks already on disk are immutable, so they are hard-linked (copied only if the
//! file system refuses links), which costs no space. Unless the head is skipped, the head's
//! samples are written as one new block in the block encoding. Only head samples
//! at or after the head's minimum valid time are written: older ones are already in blocks.
//!
//! The maintenance lock is held throughout, so no block is cut, merged or deleted while the
//! snapshot is taken; appends continue, and the head part holds what was committed when each
//! series was read.

use crate::block::{Block, write_block};
use crate::db::{DbError, DbInner};
use model::Labels;
use std::fs;
use std::path::Path;
use std::sync::atomic::Ordering;
use storage::{StorageIoError, fsync_dir};

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> DbError + 'a {
    move |e| DbError::Io(StorageIoError::io(op, path, e))
}

/// Writes a snapshot of `db` into `dir`, which must not exist yet.
pub(crate) fn snapshot(db: &DbInner, dir: &Path, with_head: bool) -> Result<(), DbError> {
    let _maintenance = db.maintenance_guard();
    if dir.exists() {
        return Err(DbError::InvalidOption {
            name: "snapshot dir",
            reason: format!("{} already exists", dir.display()),
        });
    }
    let blocks_dir = dir.join("blocks");
    fs::create_dir_all(&blocks_dir).map_err(io("create dir", &blocks_dir))?;
    let blocks = db.blocks.read().clone();
    for b in &blocks {
        link_block(&b.dir, &blocks_dir.join(b.name()))?;
    }
    if with_head {
        write_head(db, &blocks_dir)?;
    }
    fsync_dir(&blocks_dir)?;
    if let Some(parent) = dir.parent() {
        fsync_dir(parent)?;
    }
    Ok(())
}

/// Hard-links (or copies) every file of block directory `src` into a new directory `dst`.
fn link_block(src: &Path, dst: &Path) -> Result<(), DbError> {
    fs::create_dir_all(dst).map_err(io("create dir", dst))?;
    let rd = fs::read_dir(src).map_err(io("read dir", src))?;
    for entry in rd {
        let entry = entry.map_err(io("read dir", src))?;
        let from = entry.path();
        if !from.is_file() {
            continue;
        }
        let to = dst.join(entry.file_name());
        if fs::hard_link(&from, &to).is_err() {
            // E.g. a file system without hard links: a copy is slower but equally valid.
            fs::copy(&from, &to).map_err(io("copy", &from))?;
        }
    }
    fsync_dir(dst)?;
    Ok(())
}

/// Writes the head's samples from its minimum valid time on as one level-1 block, as
/// Prometheus does: one block compresses better than one per block range, and the head is
/// bounded in time (by the block range and the out-of-order window), so no series comes near
/// the block encoding's per-series limit.
fn write_head(db: &DbInner, blocks_dir: &Path) -> Result<(), DbError> {
    let head = &db.head;
    let hmin = head.min_time.load(Ordering::Acquire);
    let hmax = head.max_time.load(Ordering::Acquire);
    if hmin == i64::MAX || hmax == i64::MIN {
        return Ok(());
    }
    let mint = hmin.max(head.min_valid_time.load(Ordering::Acquire));
    if mint > hmax {
        return Ok(());
    }
    let mut refs: Vec<(Labels, _)> = head
        .all_series()
        .into_iter()
        .map(|s| (s.labels(), s))
        .collect();
    refs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut failed: Option<String> = None;
    let series = refs.into_iter().map(|(labels, s)| {
        let samples = match s.data.lock().samples(mint, hmax) {
            Ok(v) => v,
            Err(e) => {
                failed.get_or_insert(e.to_string());
                Vec::new()
            }
        };
        (labels, samples)
    });
    let written = write_block(blocks_dir, mint, hmax, 1, Vec::new(), series)?;
    if let Some(reason) = failed {
        return Err(DbError::Corrupt {
            location: "head".into(),
            reason,
        });
    }
    // Series emptied by truncation leave no samples: a block without series is of no use.
    if Block::open(&written)?.meta.num_series == 0 {
        fs::remove_dir_all(&written).map_err(io("remove dir", &written))?;
    }
    Ok(())
}

/// A snapshot name as Prometheus makes it: the UTC time as `YYYYMMDDTHHMMSSZ`, a dash and 16
/// hex digits that make names taken in the same second differ.
pub(crate) fn snapshot_name(now_ms: i64) -> String {
    let secs = now_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = model::time::civil_from_days(days);
    let salt = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_i64(now_ms);
        // Positive like Go's `rand.Int63`, which Prometheus formats.
        h.finish() >> 1
    };
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z-{salt:016x}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_utc_time() {
        // 2026-11-23T13:55:00Z
        let name = snapshot_name(1_795_442_100_000);
        assert!(name.starts_with("20261123T135500Z-"), "{name}");
        assert_eq!(name.len(), "20261123T135500Z-".len() + 16);
        assert_eq!(snapshot_name(0)[..16].to_string(), "19700101T000000Z");
        assert_eq!(&snapshot_name(951_782_400_000)[..8], "20000229");
    }
}
