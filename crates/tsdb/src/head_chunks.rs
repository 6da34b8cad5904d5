//! Closed head chunks kept in files and read through a shared memory mapping, as Prometheus
//! keeps them in `chunks_head/`.
//!
//! Why: a closed chunk never changes, and between its closing and the head cut that writes it
//! into a block (up to 3 h later) it is read only by queries. On the heap it is anonymous memory
//! the process must keep resident: at 100k series and 3 h of 15 s samples that is ~200 MB, most
//! of the head. In a file it is page cache: written once with `pwrite`, read through a
//! read-only `MAP_SHARED` mapping, and the kernel may drop the pages under memory pressure and
//! read them back on use. What stays on the heap per chunk is a 32-byte [`ChunkRef`]-like entry.
//!
//! The files are a cache of what the WAL already holds: they are never read at start-up (WAL
//! replay writes them afresh), so the store deletes whatever a previous process left in the
//! folder when it opens. Each file is a *segment*: an 8-byte header (`docs/format/head-chunks.md`)
//! then chunk bytes back to back, up to [`SEGMENT_MAX_BYTES`]. A segment is shared by the chunks
//! stored in it; when the last of them is dropped (head truncation after a block cut), the file
//! is deleted.
//!
//! If a file cannot be created, mapped or written (disk full, read-only folder), the chunk stays
//! on the heap, as it would without files: memory grows, data is never lost. The first failure is
//! logged.

use memmap2::{Mmap, MmapOptions};
use parking_lot::Mutex;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use storage::StorageIoError;

/// Size at which a segment file is closed and a new one started (and the size of its mapping).
pub const SEGMENT_MAX_BYTES: u32 = 128 << 20;
/// First bytes of every segment file: magic and format version, then three reserved zeros.
pub const SEGMENT_HEADER: [u8; 8] = *b"THCK\x01\0\0\0";

/// Where the bytes of closed chunks live.
enum Backing {
    /// A segment file mapped read-only; the path is deleted when the segment is dropped.
    Mapped {
        map: Mmap,
        path: PathBuf,
        /// Written to by the one appender that reserved each range; reads go through `map`.
        file: File,
    },
    /// One chunk on the heap (no folder, or the file could not be used).
    Heap(Box<[u8]>),
}

/// Bytes shared by the chunks stored in them.
pub(crate) struct Segment {
    backing: Backing,
}

impl Segment {
    /// `len` bytes at `offset`, or an empty slice if the range is outside what the segment holds
    /// (which a decoder then reports as a short chunk rather than panicking).
    pub(crate) fn bytes(&self, offset: u32, len: u16) -> &[u8] {
        let all: &[u8] = match &self.backing {
            Backing::Mapped { map, .. } => map,
            Backing::Heap(b) => b,
        };
        let start = offset as usize;
        all.get(start..start + len as usize).unwrap_or(&[])
    }

    pub(crate) fn is_heap(&self) -> bool {
        matches!(self.backing, Backing::Heap(_))
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        if let Backing::Mapped { path, .. } = &self.backing {
            // The mapping goes right after; unlinking a mapped file is fine on Linux.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The segment being filled and where the next chunk goes.
struct Writer {
    current: Option<Arc<Segment>>,
    pos: u32,
    next_id: u64,
}

/// Stores closed chunks in segment files of one folder, or on the heap without one.
pub(crate) struct ChunkFiles {
    dir: Option<PathBuf>,
    writer: Mutex<Writer>,
    /// Set after the first failure, so it is logged once and the heap is used from then on.
    failed: AtomicBool,
    /// Chunk bytes written to files since start.
    pub(crate) bytes_written: AtomicU64,
}

/// A stored chunk's place: the segment, the offset and the length of its bytes.
pub(crate) struct Stored {
    pub(crate) segment: Arc<Segment>,
    pub(crate) offset: u32,
    pub(crate) len: u16,
}

impl ChunkFiles {
    /// Chunks on the heap only.
    pub(crate) fn in_memory() -> Self {
        ChunkFiles {
            dir: None,
            writer: Mutex::new(Writer {
                current: None,
                pos: 0,
                next_id: 0,
            }),
            failed: AtomicBool::new(false),
            bytes_written: AtomicU64::new(0),
        }
    }

    /// Chunks in segment files under `dir`, created if missing; files a previous process left
    /// there are deleted (the WAL holds their data).
    pub(crate) fn open(dir: &Path) -> Result<Self, StorageIoError> {
        std::fs::create_dir_all(dir).map_err(|e| StorageIoError::io("create dir", dir, e))?;
        let entries = std::fs::read_dir(dir).map_err(|e| StorageIoError::io("read dir", dir, e))?;
        for entry in entries {
            let path = entry
                .map_err(|e| StorageIoError::io("read dir", dir, e))?
                .path();
            if path.is_file() {
                std::fs::remove_file(&path)
                    .map_err(|e| StorageIoError::io("remove stale head chunks", &path, e))?;
            }
        }
        let mut files = Self::in_memory();
        files.dir = Some(dir.to_path_buf());
        Ok(files)
    }

    /// Stores a closed chunk's bytes and says where they are. Never fails: without a usable
    /// file the bytes go to the heap.
    pub(crate) fn store(&self, bytes: &[u8]) -> Stored {
        let Ok(len) = u16::try_from(bytes.len()) else {
            // Cannot happen for a chunk of at most 120 samples; kept total for safety.
            return heap(bytes);
        };
        if self.dir.is_none() || self.failed.load(Ordering::Relaxed) {
            return heap(bytes);
        }
        let Some((segment, offset)) = self.reserve(len) else {
            return heap(bytes);
        };
        let Backing::Mapped { file, .. } = &segment.backing else {
            return heap(bytes);
        };
        // Outside the lock: each appender writes its own reserved range.
        if let Err(e) = file.write_all_at(bytes, u64::from(offset)) {
            self.fail(&format!("writing a head chunk: {e}"));
            return heap(bytes);
        }
        self.bytes_written
            .fetch_add(u64::from(len), Ordering::Relaxed);
        Stored {
            segment,
            offset,
            len,
        }
    }

    /// Reserves `len` bytes in the current segment, starting a new one when it is full.
    fn reserve(&self, len: u16) -> Option<(Arc<Segment>, u32)> {
        let mut w = self.writer.lock();
        let fits = w
            .pos
            .checked_add(u32::from(len))
            .is_some_and(|end| end <= SEGMENT_MAX_BYTES);
        if w.current.is_none() || !fits {
            let id = w.next_id;
            w.next_id += 1;
            match self.create_segment(id) {
                Ok(seg) => {
                    w.current = Some(Arc::new(seg));
                    w.pos = SEGMENT_HEADER.len() as u32;
                }
                Err(e) => {
                    w.current = None;
                    drop(w);
                    self.fail(&e);
                    return None;
                }
            }
        }
        let segment = w.current.clone()?;
        let offset = w.pos;
        w.pos += u32::from(len);
        Some((segment, offset))
    }

    fn create_segment(&self, id: u64) -> Result<Segment, String> {
        let dir = self.dir.as_deref().ok_or("no head chunk folder")?;
        let path = dir.join(format!("{id:08}"));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| format!("creating {}: {e}", path.display()))?;
        file.write_all_at(&SEGMENT_HEADER, 0)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        // SAFETY: the file is ours (the data folder is locked by this process, and this folder
        // is emptied at open); it only grows, by `pwrite`s to ranges no reader has been given
        // yet, and a range is read only after its write returned. Pages past the end of the
        // file are never touched, so the mapping can be the segment's full size from the start.
        let map = unsafe {
            MmapOptions::new()
                .len(SEGMENT_MAX_BYTES as usize)
                .map(&file)
        }
        .map_err(|e| {
            let _ = std::fs::remove_file(&path);
            format!("mapping {}: {e}", path.display())
        })?;
        Ok(Segment {
            backing: Backing::Mapped { map, path, file },
        })
    }

    fn fail(&self, why: &str) {
        if !self.failed.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error = why,
                "head chunks stay in memory from now on: the head chunk files cannot be used"
            );
        }
    }
}

fn heap(bytes: &[u8]) -> Stored {
    Stored {
        segment: Arc::new(Segment {
            backing: Backing::Heap(bytes.into()),
        }),
        offset: 0,
        // Only reached with a length that fits (see `store`) or, for oversize input, a chunk
        // whose reads then come back empty and report a decode error.
        len: u16::try_from(bytes.len()).unwrap_or(u16::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bytes_read_back_and_files_go_with_their_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let chunks = dir.path().join("chunks_head");
        std::fs::create_dir_all(&chunks).unwrap();
        std::fs::write(chunks.join("00000007"), b"left by a crashed process").unwrap();
        let files = ChunkFiles::open(&chunks).unwrap();
        assert_eq!(std::fs::read_dir(&chunks).unwrap().count(), 0);

        let a = files.store(b"first chunk");
        let b = files.store(&[7u8; 300]);
        assert!(!a.segment.is_heap());
        assert!(Arc::ptr_eq(&a.segment, &b.segment));
        assert_eq!(a.segment.bytes(a.offset, a.len), b"first chunk");
        assert_eq!(b.segment.bytes(b.offset, b.len), &[7u8; 300][..]);
        // Out of range reads are empty, not a panic.
        assert!(a.segment.bytes(SEGMENT_MAX_BYTES - 1, 2).is_empty());
        let on_disk = std::fs::read(chunks.join("00000000")).unwrap();
        assert_eq!(&on_disk[..8], &SEGMENT_HEADER);
        assert_eq!(&on_disk[8..19], b"first chunk");
        assert_eq!(files.bytes_written.load(Ordering::Relaxed), 311);

        // The writer still holds the segment: the file stays until a new one replaces it and the
        // last chunk in it is gone.
        drop((a, b));
        assert_eq!(std::fs::read_dir(&chunks).unwrap().count(), 1);
        files.writer.lock().current = None;
        assert_eq!(std::fs::read_dir(&chunks).unwrap().count(), 0);
    }

    #[test]
    fn a_full_segment_starts_the_next_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = ChunkFiles::open(dir.path()).unwrap();
        let first = files.store(b"x");
        files.writer.lock().pos = SEGMENT_MAX_BYTES - 2;
        let second = files.store(b"abc");
        assert!(!Arc::ptr_eq(&first.segment, &second.segment));
        assert_eq!(second.offset, SEGMENT_HEADER.len() as u32);
        assert_eq!(second.segment.bytes(second.offset, second.len), b"abc");
        assert!(dir.path().join("00000001").exists());
    }

    #[test]
    fn without_a_usable_folder_chunks_stay_on_the_heap() {
        let files = ChunkFiles::in_memory();
        let s = files.store(b"abc");
        assert!(s.segment.is_heap());
        assert_eq!(s.segment.bytes(s.offset, s.len), b"abc");

        let dir = tempfile::tempdir().unwrap();
        let files = ChunkFiles::open(&dir.path().join("c")).unwrap();
        std::fs::remove_dir_all(dir.path().join("c")).unwrap();
        let s = files.store(b"abc");
        assert!(s.segment.is_heap());
        assert_eq!(s.segment.bytes(s.offset, s.len), b"abc");
        assert!(files.failed.load(Ordering::Relaxed));
    }
}
