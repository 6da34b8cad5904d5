//! The running executable's ELF symbol table, for full function paths.
//!
//! DWARF line tables (`debug = "line-tables-only"`, the workspace's release setting) name a
//! function by its bare name (`poll`, `checkout`), which in a flame graph of a Rust service is
//! ambiguous. The symbol table names the same code by its mangled full path, which demangles
//! to `<tokio::runtime::task::...>::poll` or `shop::routes::checkout`. The symbolizer uses it for
//! the function an address physically lies in; inlined frames keep their DWARF names.
//!
//! The file is memory-mapped (page cache, not heap), and only a sorted index of function
//! symbols is kept on the heap: 24 bytes per symbol, at most [`MAX_SYMBOLS`] of them.

use std::ffi::c_void;

use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSymbol, SymbolKind};

/// Function symbols indexed at most (24 MiB of index); the rest are left unnamed by this table.
const MAX_SYMBOLS: usize = 1_000_000;

#[derive(Clone, Copy)]
struct Entry {
    start: u64,
    size: u32,
    name_offset: u32,
    name_len: u32,
}

/// Function symbols of the main executable, by address.
pub(crate) struct ExecutableSymbols {
    map: memmap2::Mmap,
    /// Runtime address minus link-time address (non-zero for position-independent executables).
    bias: u64,
    entries: Vec<Entry>,
}

impl ExecutableSymbols {
    /// Maps `/proc/self/exe` and indexes its function symbols; `None` if the file cannot be read
    /// or holds no symbols (stripped).
    pub(crate) fn load() -> Option<Self> {
        let file = std::fs::File::open("/proc/self/exe").ok()?;
        // SAFETY: the mapping is read-only and `/proc/self/exe` is the running executable's
        // inode, which stays alive while the process runs even if the path is replaced.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        let bias = main_program_bias()?;
        let entries = index(&map)?;
        Some(Self { map, bias, entries })
    }

    /// The raw (mangled) name of the function containing runtime address `address`.
    pub(crate) fn name_at(&self, address: usize) -> Option<&[u8]> {
        let link_address = (address as u64).checked_sub(self.bias)?;
        let i = match self
            .entries
            .binary_search_by_key(&link_address, |e| e.start)
        {
            Ok(i) => i,
            Err(0) => return None,
            Err(i) => i - 1,
        };
        let entry = self.entries[i];
        if link_address >= entry.start + u64::from(entry.size) {
            return None;
        }
        let start = entry.name_offset as usize;
        self.map.get(start..start + entry.name_len as usize)
    }
}

/// Sorted function symbols of the ELF image in `data` (`.symtab`, else `.dynsym`).
fn index(data: &[u8]) -> Option<Vec<Entry>> {
    let file = ElfFile64::<Endianness>::parse(data).ok()?;
    let mut entries: Vec<Entry> = file
        .symbols()
        .filter_map(|symbol| entry(data, &symbol))
        .take(MAX_SYMBOLS)
        .collect();
    if entries.is_empty() {
        entries = file
            .dynamic_symbols()
            .filter_map(|symbol| entry(data, &symbol))
            .take(MAX_SYMBOLS)
            .collect();
    }
    if entries.is_empty() {
        return None;
    }
    entries.sort_unstable_by_key(|e| e.start);
    entries.shrink_to_fit();
    Some(entries)
}

/// The index entry of a function symbol with a size and a name; `None` for anything else.
fn entry<'data>(data: &'data [u8], symbol: &impl ObjectSymbol<'data>) -> Option<Entry> {
    if symbol.kind() != SymbolKind::Text || symbol.size() == 0 {
        return None;
    }
    let name = symbol.name_bytes().ok().filter(|n| !n.is_empty())?;
    // Names are slices of the mapped file; store their offsets instead of copies.
    let offset = (name.as_ptr() as usize).checked_sub(data.as_ptr() as usize)?;
    if offset.checked_add(name.len())? > data.len() {
        return None;
    }
    Some(Entry {
        start: symbol.address(),
        size: u32::try_from(symbol.size()).ok()?,
        name_offset: u32::try_from(offset).ok()?,
        name_len: u32::try_from(name.len()).ok()?,
    })
}

/// The load bias of the main program: the first object `dl_iterate_phdr` reports.
fn main_program_bias() -> Option<u64> {
    unsafe extern "C" fn first(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut c_void,
    ) -> libc::c_int {
        // SAFETY: `info` is valid for this call and `data` is the `Option<u64>` passed below.
        unsafe {
            *data.cast::<Option<u64>>() = Some((*info).dlpi_addr);
        }
        1
    }
    let mut bias: Option<u64> = None;
    // SAFETY: the callback only writes through `data`, which points at `bias`.
    unsafe {
        libc::dl_iterate_phdr(Some(first), (&mut bias as *mut Option<u64>).cast());
    }
    bias
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn a_function_the_symbol_table_knows() -> u32 {
        std::hint::black_box(5)
    }

    #[test]
    fn finds_the_full_path_of_a_function_of_this_binary() {
        assert_eq!(a_function_the_symbol_table_knows(), 5);
        let symbols = ExecutableSymbols::load().expect("the test binary has a symbol table");
        let address = a_function_the_symbol_table_knows as *const () as usize;
        let raw = symbols
            .name_at(address + 1)
            .expect("a symbol covers the function");
        let name = format!("{:#}", backtrace::SymbolName::new(raw));
        assert_eq!(
            name,
            "instrument::profiling::symtab::tests::a_function_the_symbol_table_knows"
        );
        assert_eq!(symbols.name_at(8), None, "no function at a tiny address");
    }
}
