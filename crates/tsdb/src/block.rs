//! Immutable blocks: the samples of a time range written once to a directory
//! `blocks/<name>/` holding `meta.json`, `index` and `chunks` (byte layout in
//! `docs/format/tsdb-block.md`).
//!
//! Samples of a series are encoded with the dense byte-stream encoding
//! ([`crate::chunkenc::dense`]) into a timestamp stream and a value stream; consecutive series (sorted by labels) are packed into groups of about
//! [`GROUP_TARGET_BYTES`] that are compressed together with zstd, each with its CRC. The index
//! (symbols, groups, series with label references and positions) is compressed as a whole. On
//! open the index body is decompressed into memory (series entries stay encoded, tens of bytes
//! each, parsed when used) and the postings are rebuilt, so selecting series needs no
//! I/O; reading samples decompresses one group (the last [`GROUP_CACHE_ENTRIES`] read are
//! cached, so readers on several threads walking different stretches of series each keep theirs).

use crate::chunkenc::dense::MAX_DENSE_SAMPLES;
use crate::chunkenc::{decode_dense, encode_dense};
use crate::db::DbError;
use crate::encoding::{Reader, put_str, put_uvarint, put_varint};
use crate::index::MemPostings;
use model::{Label, Labels, Matcher, Sample};
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use storage::{StorageIoError, fsync_dir};

/// Version of the block format written.
pub const BLOCK_FORMAT_VERSION: u32 = 1;
/// Uncompressed size at which a group of series is closed and compressed.
pub const GROUP_TARGET_BYTES: usize = 128 << 10;
/// Decompressed groups kept per open block: a query's reader threads each walk their own
/// stretch of series (consecutive series share a group), and one entry per thread would be
/// evicted by the others; a few each bounds the cache at about a megabyte per block.
const GROUP_CACHE_ENTRIES: usize = 8;
const CHUNKS_MAGIC: &[u8; 4] = b"TTCH";
const INDEX_MAGIC: &[u8; 4] = b"TTIX";
const ZSTD_LEVEL: i32 = 5;
/// Largest decompressed index or group accepted when reading (guards against corrupt sizes).
const MAX_DECOMPRESSED: usize = 1 << 30;

/// `meta.json` of a block.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BlockMeta {
    /// Format version.
    pub version: u32,
    /// First timestamp covered, inclusive.
    pub mint: i64,
    /// Last timestamp covered, inclusive.
    pub maxt: i64,
    /// 1 for a block cut from the head, one more per compaction.
    pub level: u32,
    /// Series in the block.
    pub num_series: u64,
    /// Samples in the block.
    pub num_samples: u64,
    /// Directory names of the blocks this one was merged from.
    #[serde(default)]
    pub sources: Vec<String>,
}

struct GroupRef {
    offset: u64,
    clen: u32,
    rawlen: u32,
    /// Length of the timestamp section at the start of the uncompressed group.
    tlen: u32,
    crc: u32,
}

struct BlockSeries {
    /// Label pairs as indexes into the block's symbols.
    labels: Vec<(u32, u32)>,
    mint: i64,
    maxt: i64,
    group: u32,
    /// Position of the timestamp stream in the group's timestamp section.
    toff: u32,
    tlen: u32,
    /// Position of the value stream in the group's value section.
    voff: u32,
    vlen: u32,
}

/// An open, immutable block.
pub(crate) struct Block {
    pub(crate) dir: PathBuf,
    pub(crate) meta: BlockMeta,
    /// The decompressed index body; series entries are parsed from it when needed, so a
    /// series costs its encoded entry (tens of bytes) plus its postings while the block is open.
    body: Box<[u8]>,
    /// Offset of each series entry in `body`.
    series_offsets: Vec<u32>,
    postings: MemPostings,
    groups: Vec<GroupRef>,
    chunks: File,
    size_bytes: u64,
    /// Recently decompressed groups, most recent last.
    cache: Mutex<Vec<(u32, Arc<Vec<u8>>)>>,
    symbols: Vec<Arc<str>>,
}

fn corrupt(dir: &Path, reason: impl Into<String>) -> DbError {
    DbError::Corrupt {
        location: dir.display().to_string(),
        reason: reason.into(),
    }
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> DbError + 'a {
    move |e| DbError::Io(StorageIoError::io(op, path, e))
}

/// Writes a block of `series` (sorted by labels, each with time-sorted samples inside
/// `[mint, maxt]`) under `blocks_dir`; returns its directory. Written to `<name>.tmp` and renamed,
/// so a crash leaves either no block or a whole one.
pub(crate) fn write_block(
    blocks_dir: &Path,
    mint: i64,
    maxt: i64,
    level: u32,
    sources: Vec<String>,
    series: impl Iterator<Item = (Labels, Vec<Sample>)>,
) -> Result<PathBuf, DbError> {
    let name = format!("b-{mint}-{maxt}-l{level}");
    let final_dir = blocks_dir.join(&name);
    let tmp = blocks_dir.join(format!("{name}.tmp"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io("remove", &tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io("create dir", &tmp))?;

    let chunks_path = tmp.join("chunks");
    let mut chunks =
        BufWriter::new(File::create(&chunks_path).map_err(io("create", &chunks_path))?);
    chunks
        .write_all(CHUNKS_MAGIC)
        .and_then(|_| chunks.write_all(&[BLOCK_FORMAT_VERSION as u8]))
        .map_err(io("write", &chunks_path))?;
    let mut offset = 5u64;
    let mut groups: Vec<GroupRef> = Vec::new();
    let mut group_ts: Vec<u8> = Vec::new();
    let mut group_vals: Vec<u8> = Vec::new();
    let mut entries: Vec<(Labels, i64, i64, u32, [u32; 4])> = Vec::new();
    let mut num_samples = 0u64;

    let flush = |ts: &mut Vec<u8>,
                 vals: &mut Vec<u8>,
                 groups: &mut Vec<GroupRef>,
                 offset: &mut u64,
                 chunks: &mut BufWriter<File>|
     -> Result<(), DbError> {
        if ts.is_empty() {
            return Ok(());
        }
        let tlen = ts.len() as u32;
        ts.append(vals);
        let buf = ts;
        let c = zstd::bulk::compress(buf, ZSTD_LEVEL).map_err(io("compress", &chunks_path))?;
        chunks.write_all(&c).map_err(io("write", &chunks_path))?;
        groups.push(GroupRef {
            offset: *offset,
            clen: c.len() as u32,
            rawlen: buf.len() as u32,
            tlen,
            crc: crc32fast::hash(&c),
        });
        *offset += c.len() as u64;
        buf.clear();
        Ok(())
    };

    for (labels, samples) in series {
        if samples.is_empty() {
            continue;
        }
        if samples.len() > MAX_DENSE_SAMPLES {
            return Err(corrupt(
                &tmp,
                format!(
                    "series {labels} has {} samples, more than {MAX_DENSE_SAMPLES} per block",
                    samples.len()
                ),
            ));
        }
        let (toff, voff) = (group_ts.len(), group_vals.len());
        encode_dense(&samples, &mut group_ts, &mut group_vals);
        num_samples += samples.len() as u64;
        let (smin, smax) = (samples[0].t, samples[samples.len() - 1].t);
        entries.push((
            labels,
            smin,
            smax,
            groups.len() as u32,
            [
                toff as u32,
                (group_ts.len() - toff) as u32,
                voff as u32,
                (group_vals.len() - voff) as u32,
            ],
        ));
        if group_ts.len() + group_vals.len() >= GROUP_TARGET_BYTES {
            flush(
                &mut group_ts,
                &mut group_vals,
                &mut groups,
                &mut offset,
                &mut chunks,
            )?;
        }
    }
    flush(
        &mut group_ts,
        &mut group_vals,
        &mut groups,
        &mut offset,
        &mut chunks,
    )?;
    let chunks_file = chunks
        .into_inner()
        .map_err(|e| DbError::Io(StorageIoError::io("write", &chunks_path, e.into_error())))?;
    chunks_file.sync_all().map_err(io("fsync", &chunks_path))?;

    // Index.
    let mut symbols: BTreeSet<&str> = BTreeSet::new();
    for (l, ..) in &entries {
        for x in l {
            symbols.insert(&x.name);
            symbols.insert(&x.value);
        }
    }
    let sym_ids: HashMap<&str, u64> = symbols
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i as u64))
        .collect();
    let mut body = Vec::new();
    put_uvarint(&mut body, symbols.len() as u64);
    for s in &symbols {
        put_str(&mut body, s);
    }
    put_uvarint(&mut body, groups.len() as u64);
    for g in &groups {
        body.extend_from_slice(&g.offset.to_le_bytes());
        body.extend_from_slice(&g.clen.to_le_bytes());
        body.extend_from_slice(&g.rawlen.to_le_bytes());
        body.extend_from_slice(&g.tlen.to_le_bytes());
        body.extend_from_slice(&g.crc.to_le_bytes());
    }
    put_uvarint(&mut body, entries.len() as u64);
    for (l, smin, smax, g, pos) in &entries {
        put_uvarint(&mut body, l.len() as u64);
        for x in l {
            put_uvarint(&mut body, sym_ids[x.name.as_str()]);
            put_uvarint(&mut body, sym_ids[x.value.as_str()]);
        }
        put_varint(&mut body, *smin);
        put_uvarint(&mut body, (smax - smin) as u64);
        put_uvarint(&mut body, u64::from(*g));
        for p in pos {
            put_uvarint(&mut body, u64::from(*p));
        }
    }
    let index_path = tmp.join("index");
    let mut index = INDEX_MAGIC.to_vec();
    index.push(BLOCK_FORMAT_VERSION as u8);
    index.extend_from_slice(
        &zstd::bulk::compress(&body, ZSTD_LEVEL).map_err(io("compress", &index_path))?,
    );
    let crc = crc32fast::hash(&index);
    index.extend_from_slice(&crc.to_le_bytes());
    write_synced(&index_path, &index)?;

    let meta = BlockMeta {
        version: BLOCK_FORMAT_VERSION,
        mint,
        maxt,
        level,
        num_series: entries.len() as u64,
        num_samples,
        sources,
    };
    let meta_path = tmp.join("meta.json");
    let json = serde_json::to_vec_pretty(&meta)
        .map_err(|e| corrupt(&meta_path, format!("encoding meta.json: {e}")))?;
    write_synced(&meta_path, &json)?;
    fsync_dir(&tmp)?;
    fs::rename(&tmp, &final_dir).map_err(io("rename", &final_dir))?;
    fsync_dir(blocks_dir)?;
    Ok(final_dir)
}

fn write_synced(path: &Path, data: &[u8]) -> Result<(), DbError> {
    let mut f = File::create(path).map_err(io("create", path))?;
    f.write_all(data).map_err(io("write", path))?;
    f.sync_all().map_err(io("fsync", path))
}

impl Block {
    /// Opens the block in `dir`, reading its index into memory.
    pub(crate) fn open(dir: &Path) -> Result<Block, DbError> {
        let meta_path = dir.join("meta.json");
        let meta_bytes = fs::read(&meta_path).map_err(io("read", &meta_path))?;
        let meta: BlockMeta = serde_json::from_slice(&meta_bytes)
            .map_err(|e| corrupt(&meta_path, format!("meta.json: {e}")))?;
        if meta.version != BLOCK_FORMAT_VERSION {
            return Err(corrupt(
                dir,
                format!("unknown block version {}", meta.version),
            ));
        }
        let index_path = dir.join("index");
        let index = fs::read(&index_path).map_err(io("read", &index_path))?;
        if index.len() < 9 || &index[..4] != INDEX_MAGIC {
            return Err(corrupt(&index_path, "bad magic"));
        }
        let (data, crc) = index.split_at(index.len() - 4);
        if crc32fast::hash(data) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(corrupt(&index_path, "checksum mismatch"));
        }
        let mut body = Vec::new();
        zstd::stream::read::Decoder::new(&data[5..])
            .map_err(io("decompress", &index_path))?
            .take(MAX_DECOMPRESSED as u64)
            .read_to_end(&mut body)
            .map_err(io("decompress", &index_path))?;
        if body.len() > u32::MAX as usize {
            return Err(corrupt(&index_path, "index body larger than 4 GiB"));
        }
        let (symbols, series_offsets, groups) =
            parse_index(&body).map_err(|e| corrupt(&index_path, e))?;
        let postings = MemPostings::default();
        let mut pairs = Vec::new();
        for (i, off) in series_offsets.iter().enumerate() {
            let s = parse_entry(&body, *off as usize, symbols.len(), groups.len())
                .map_err(|e| corrupt(&index_path, e))?;
            pairs.clear();
            // Indexes were checked against the symbol count while parsing.
            pairs.extend(
                s.labels
                    .iter()
                    .map(|(n, v)| (symbols[*n as usize].clone(), symbols[*v as usize].clone())),
            );
            postings.add(i as u64, &pairs);
        }
        let chunks_path = dir.join("chunks");
        let chunks = File::open(&chunks_path).map_err(io("open", &chunks_path))?;
        let size_bytes = [&meta_path, &index_path, &chunks_path]
            .iter()
            .filter_map(|p| fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        Ok(Block {
            dir: dir.to_path_buf(),
            meta,
            body: body.into_boxed_slice(),
            series_offsets,
            postings,
            groups,
            chunks,
            size_bytes,
            cache: Mutex::new(Vec::with_capacity(GROUP_CACHE_ENTRIES)),
            symbols,
        })
    }

    /// Bytes on disk.
    pub(crate) fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    /// The directory name.
    pub(crate) fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Whether the block holds data in `[mint, maxt]`.
    pub(crate) fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.meta.mint <= maxt && self.meta.maxt >= mint
    }

    /// Series refs matching `matchers` with samples overlapping `[mint, maxt]`.
    pub(crate) fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<u32> {
        self.postings
            .select(matchers)
            .into_iter()
            .filter_map(|i| {
                let (lo, hi) = self.series_bounds(i as u32)?;
                (lo <= maxt && hi >= mint).then_some(i as u32)
            })
            .collect()
    }

    /// Every label name in the block, sorted.
    pub(crate) fn label_names(&self) -> Vec<String> {
        self.postings.label_names()
    }

    /// Every value of `name` in the block, sorted.
    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        self.postings.label_values(name)
    }

    /// First and last sample time of series `i`.
    pub(crate) fn series_bounds(&self, i: u32) -> Option<(i64, i64)> {
        self.entry(i).ok().map(|s| (s.mint, s.maxt))
    }

    /// The labels of series `i`.
    pub(crate) fn labels(&self, i: u32) -> Labels {
        let Ok(s) = self.entry(i) else {
            return Labels::empty();
        };
        let sym = |k: u32| {
            self.symbols
                .get(k as usize)
                .map_or_else(String::new, |x| x.to_string())
        };
        Labels::from_sorted(
            s.labels
                .iter()
                .map(|(n, v)| Label {
                    name: sym(*n),
                    value: sym(*v),
                })
                .collect(),
        )
    }

    /// Samples of series `i` in `[mint, maxt]`.
    pub(crate) fn samples(&self, i: u32, mint: i64, maxt: i64) -> Result<Vec<Sample>, DbError> {
        let s = self.entry(i)?;
        let group = self.group(s.group)?;
        let tsec = self.groups[s.group as usize].tlen as usize;
        let slice = |off: u32, len: u32, base: usize| {
            let start = base.checked_add(off as usize)?;
            group.get(start..start.checked_add(len as usize)?)
        };
        let (Some(ts), Some(vals)) = (
            slice(s.toff, s.tlen, 0).filter(|_| (s.toff as usize + s.tlen as usize) <= tsec),
            slice(s.voff, s.vlen, tsec),
        ) else {
            return Err(corrupt(
                &self.dir,
                format!("series {i} points past its group"),
            ));
        };
        let mut out = Vec::new();
        decode_dense(ts, vals, &mut out)
            .map_err(|e| corrupt(&self.dir, format!("series {i}: {e}")))?;
        out.retain(|x| x.t >= mint && x.t <= maxt);
        Ok(out)
    }

    fn group(&self, g: u32) -> Result<Arc<Vec<u8>>, DbError> {
        if let Some((_, data)) = self
            .cache
            .lock()
            .iter()
            .rev()
            .find(|(cached, _)| *cached == g)
        {
            return Ok(data.clone());
        }
        let path = self.dir.join("chunks");
        let gr = self
            .groups
            .get(g as usize)
            .ok_or_else(|| corrupt(&path, format!("no group {g}")))?;
        let mut c = vec![0u8; gr.clen as usize];
        self.chunks
            .read_exact_at(&mut c, gr.offset)
            .map_err(io("read", &path))?;
        if crc32fast::hash(&c) != gr.crc {
            return Err(corrupt(&path, format!("group {g} checksum mismatch")));
        }
        let raw = zstd::bulk::decompress(&c, (gr.rawlen as usize).min(MAX_DECOMPRESSED))
            .map_err(|e| corrupt(&path, format!("group {g}: {e}")))?;
        let raw = Arc::new(raw);
        let mut cache = self.cache.lock();
        if cache.len() >= GROUP_CACHE_ENTRIES {
            cache.remove(0);
        }
        cache.push((g, raw.clone()));
        Ok(raw)
    }

    /// Every series' ref, for merging blocks.
    pub(crate) fn all_refs(&self) -> impl Iterator<Item = u32> {
        0..self.series_offsets.len() as u32
    }

    /// The index entry of series `i` (validated at open, so an error here means a bug).
    fn entry(&self, i: u32) -> Result<BlockSeries, DbError> {
        let off = *self
            .series_offsets
            .get(i as usize)
            .ok_or_else(|| corrupt(&self.dir, format!("no series {i}")))?;
        parse_entry(
            &self.body,
            off as usize,
            self.symbols.len(),
            self.groups.len(),
        )
        .map_err(|e| corrupt(&self.dir, format!("series {i}: {e}")))
    }
}

type ParsedIndex = (Vec<Arc<str>>, Vec<u32>, Vec<GroupRef>);

/// Reads the symbols and groups, and finds where each series entry starts.
fn parse_index(body: &[u8]) -> Result<ParsedIndex, String> {
    let mut r = Reader::new(body);
    let nsym = r.len(body.len(), "symbol count")?;
    let mut syms: Vec<Arc<str>> = Vec::with_capacity(nsym);
    for _ in 0..nsym {
        let sym = r.str()?;
        if syms.last().is_some_and(|p| **p >= *sym) {
            return Err(format!("symbols not sorted at {sym:?}"));
        }
        syms.push(Arc::from(sym));
    }
    let ngroups = r.len(body.len(), "group count")?;
    let mut groups = Vec::with_capacity(ngroups);
    for _ in 0..ngroups {
        groups.push(GroupRef {
            offset: r.u64()?,
            clen: r.u32()?,
            rawlen: r.u32()?,
            tlen: r.u32()?,
            crc: r.u32()?,
        });
    }
    let nseries = r.len(body.len(), "series count")?;
    let mut offsets = Vec::with_capacity(nseries);
    for _ in 0..nseries {
        offsets.push(r.pos() as u32);
        skip_entry(&mut r)?;
    }
    if !r.is_empty() {
        return Err(format!("{} trailing bytes", body.len() - r.pos()));
    }
    Ok((syms, offsets, groups))
}

fn skip_entry(r: &mut Reader<'_>) -> Result<(), String> {
    let nl = r.len(4096, "label count")?;
    // Label pairs, mint, maxt delta, group and four stream positions.
    for _ in 0..2 * nl + 7 {
        r.uvarint()?;
    }
    Ok(())
}

/// Parses the series entry at `off`, checking its references.
fn parse_entry(
    body: &[u8],
    off: usize,
    nsyms: usize,
    ngroups: usize,
) -> Result<BlockSeries, String> {
    let mut r = Reader::new(body.get(off..).ok_or("series offset past the index")?);
    let nl = r.len(4096, "label count")?;
    let sym = |i: u64| -> Result<u32, String> {
        if i < nsyms as u64 {
            Ok(i as u32)
        } else {
            Err(format!("symbol {i} out of range"))
        }
    };
    let mut labels = Vec::with_capacity(nl);
    for _ in 0..nl {
        let pair = (sym(r.uvarint()?)?, sym(r.uvarint()?)?);
        // Symbols are sorted, so comparing indexes compares names.
        if labels.last().is_some_and(|(prev, _)| *prev >= pair.0) {
            return Err("series labels not sorted by name".into());
        }
        labels.push(pair);
    }
    let mint = r.varint()?;
    let maxt = mint.saturating_add(r.uvarint()? as i64);
    let group = r.uvarint()? as u32;
    if group as usize >= ngroups {
        return Err(format!("series refers to group {group} of {ngroups}"));
    }
    Ok(BlockSeries {
        labels,
        mint,
        maxt,
        group,
        toff: r.uvarint()? as u32,
        tlen: r.uvarint()? as u32,
        voff: r.uvarint()? as u32,
        vlen: r.uvarint()? as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(i: usize) -> Labels {
        Labels::from_pairs([("__name__", "m".to_string()), ("i", format!("{i:04}"))])
    }

    #[test]
    fn write_open_select_read() {
        let d = tempfile::tempdir().unwrap();
        let series: Vec<(Labels, Vec<Sample>)> = (0..3000)
            .map(|i| {
                let s = (0..100)
                    .map(|k| Sample {
                        t: k * 15_000 + i as i64,
                        v: (k * i as i64) as f64,
                    })
                    .collect();
                (l(i), s)
            })
            .collect();
        let dir = write_block(
            d.path(),
            0,
            7_200_000,
            1,
            vec![],
            series.clone().into_iter(),
        )
        .unwrap();
        let b = Block::open(&dir).unwrap();
        assert_eq!(b.meta.num_samples, 300_000);
        assert!(b.groups.len() > 1, "several compression groups");
        let bytes_per_sample = b.size_bytes() as f64 / 300_000.0;
        assert!(bytes_per_sample < 3.0, "{bytes_per_sample} B/sample");
        let hits = b.select(&[Matcher::equal("i", "2999")], 0, i64::MAX);
        assert_eq!(hits.len(), 1);
        assert_eq!(b.labels(hits[0]), l(2999));
        assert_eq!(b.samples(hits[0], 0, i64::MAX).unwrap(), series[2999].1);
        assert_eq!(b.samples(5, 15_000, 30_005).unwrap().len(), 2);
        assert_eq!(b.meta.num_series, 3000);
    }

    #[test]
    fn corruption_is_reported() {
        let d = tempfile::tempdir().unwrap();
        let s = vec![(l(1), vec![Sample { t: 1, v: 1.0 }])];
        let dir = write_block(d.path(), 0, 10, 1, vec![], s.into_iter()).unwrap();
        let chunks = dir.join("chunks");
        let mut b = fs::read(&chunks).unwrap();
        let last = b.len() - 1;
        b[last] ^= 0xff;
        fs::write(&chunks, &b).unwrap();
        let blk = Block::open(&dir).unwrap();
        let err = blk.samples(0, 0, 10).unwrap_err().to_string();
        assert!(err.contains("checksum mismatch"), "{err}");
        let idx = dir.join("index");
        let mut b = fs::read(&idx).unwrap();
        b[6] ^= 1;
        fs::write(&idx, &b).unwrap();
        let err = Block::open(&dir).err().unwrap().to_string();
        assert!(err.contains("checksum mismatch"), "{err}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Damage anywhere in a block's files is reported as an error, never a panic or
        /// silently wrong samples.
        #[test]
        fn damaged_block_files_are_errors(file in 0usize..3, pos_frac in 0.0f64..1.0, bit in 0u8..8) {
            let d = tempfile::tempdir().unwrap();
            let series: Vec<(Labels, Vec<Sample>)> = (0..50)
                .map(|i| (l(i), (0..30).map(|k| Sample { t: k * 1000, v: (k * i as i64) as f64 }).collect()))
                .collect();
            let dir = write_block(d.path(), 0, 100_000, 1, vec![], series.clone().into_iter()).unwrap();
            let name = ["index", "chunks", "meta.json"][file];
            let path = dir.join(name);
            let mut b = fs::read(&path).unwrap();
            let pos = ((b.len() as f64 * pos_frac) as usize).min(b.len() - 1);
            b[pos] ^= 1 << bit;
            fs::write(&path, &b).unwrap();
            if let Ok(blk) = Block::open(&dir) {
                for (i, (labels, samples)) in series.iter().enumerate() {
                    if let Ok(got) = blk.samples(i as u32, 0, i64::MAX) {
                        proptest::prop_assert_eq!(&got, samples);
                        proptest::prop_assert_eq!(&blk.labels(i as u32), labels);
                    }
                }
            }
        }
    }
}
