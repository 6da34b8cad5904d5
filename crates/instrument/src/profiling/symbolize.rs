//! Addresses to function names, files and lines, with a cache.
//!
//! Resolution goes through the `backtrace` crate (the same DWARF line tables a panic backtrace
//! reads); the function an address physically lies in is then renamed from the executable's
//! symbol table, which has the full path where line tables have only the bare name (see
//! `symtab`). It runs on the uploader thread only, and is cached per address because a running
//! service keeps hitting the same few thousand addresses. The cache is bounded: past
//! `max_entries` it is cleared and refilled, trading a burst of re-resolution for a hard memory
//! limit.

use std::collections::HashMap;
use std::sync::Arc;

use super::symtab::ExecutableSymbols;

/// One source-level frame at an address. An address inside inlined code yields several, the
/// innermost first, as pprof's `Location.line` wants them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SymbolFrame {
    /// Demangled name without the hash suffix, e.g. `my_crate::module::function`.
    pub name: String,
    /// The symbol as the object file spells it (mangled), or the demangled name if unknown.
    pub system_name: String,
    /// Source file, empty when unknown.
    pub file: String,
    /// Source line, 0 when unknown.
    pub line: u32,
}

/// Name given to addresses no symbol covers, as Pyroscope's own agents name them.
pub(crate) const UNKNOWN_FUNCTION: &str = "[unknown]";

/// A bounded address → frames cache over `backtrace::resolve`.
pub(crate) struct Symbolizer {
    cache: HashMap<usize, Arc<[SymbolFrame]>>,
    max_entries: usize,
    /// Loaded on first use; `Some(None)` when the executable has no readable symbol table.
    symbols: Option<Option<ExecutableSymbols>>,
}

impl Symbolizer {
    /// A symbolizer keeping at most `max_entries` resolved addresses.
    pub(crate) fn new(max_entries: usize) -> Self {
        Self {
            cache: HashMap::new(),
            max_entries: max_entries.max(1),
            symbols: None,
        }
    }

    /// The frames at `address` (never empty: an unresolved address gets one `[unknown]` frame).
    pub(crate) fn resolve(&mut self, address: usize) -> Arc<[SymbolFrame]> {
        if let Some(frames) = self.cache.get(&address) {
            return frames.clone();
        }
        let mut frames = resolve_uncached(address);
        let symbols = self.symbols.get_or_insert_with(ExecutableSymbols::load);
        // `address` is a return address (or the interrupted instruction); the byte before it
        // lies inside the calling instruction, as `backtrace::resolve` also assumes.
        if let (Some(symbols), Some(physical)) = (symbols, frames.last_mut())
            && let Some(raw) = symbols.name_at(address.wrapping_sub(1))
        {
            physical.name = format!("{:#}", backtrace::SymbolName::new(raw));
            physical.system_name = String::from_utf8_lossy(raw).into_owned();
        }
        let frames: Arc<[SymbolFrame]> = frames.into();
        if self.cache.len() >= self.max_entries {
            self.cache.clear();
        }
        self.cache.insert(address, frames.clone());
        frames
    }

    /// Addresses currently cached.
    #[cfg(test)]
    pub(crate) fn cached(&self) -> usize {
        self.cache.len()
    }
}

fn resolve_uncached(address: usize) -> Vec<SymbolFrame> {
    let mut frames = Vec::new();
    backtrace::resolve(address as *mut std::ffi::c_void, |symbol| {
        let (name, system_name) = match symbol.name() {
            Some(name) => {
                let demangled = format!("{name:#}");
                let raw = String::from_utf8_lossy(name.as_bytes()).into_owned();
                (demangled, raw)
            }
            None => (UNKNOWN_FUNCTION.to_owned(), UNKNOWN_FUNCTION.to_owned()),
        };
        frames.push(SymbolFrame {
            name,
            system_name,
            file: symbol
                .filename()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
            line: symbol.lineno().unwrap_or(0),
        });
    });
    if frames.is_empty()
        && let Some(name) = dynamic_symbol(address.wrapping_sub(1))
    {
        frames.push(SymbolFrame {
            name: format!("{:#}", backtrace::SymbolName::new(name.as_bytes())),
            system_name: name,
            file: String::new(),
            line: 0,
        });
    }
    if frames.is_empty() {
        frames.push(SymbolFrame {
            name: UNKNOWN_FUNCTION.to_owned(),
            system_name: UNKNOWN_FUNCTION.to_owned(),
            file: String::new(),
            line: 0,
        });
    }
    frames
}

/// The dynamic symbol containing `address`, from the dynamic loader. This names code that has
/// no file to read debug information from, chiefly the vDSO (`__vdso_clock_gettime`), where
/// threads that read clocks spend their time.
fn dynamic_symbol(address: usize) -> Option<String> {
    // SAFETY: `dladdr` only reads loader state and fills `info`; `dli_sname`, when non-null,
    // points at a NUL-terminated name in a loaded object that stays mapped.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(address as *const libc::c_void, &mut info) == 0 || info.dli_sname.is_null()
        {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(info.dli_sname)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn a_function_with_a_findable_name() -> usize {
        std::hint::black_box(42)
    }

    #[test]
    fn resolves_a_function_of_this_binary_and_caches_it() {
        let address = a_function_with_a_findable_name as *const () as usize;
        assert_eq!(std::hint::black_box(a_function_with_a_findable_name()), 42);
        let mut symbolizer = Symbolizer::new(8);
        // `resolve` looks up `address - 1` (it expects return addresses), so ask for one byte in.
        let frames = symbolizer.resolve(address + 1);
        let physical = frames.last().expect("never empty");
        assert_eq!(
            physical.name,
            "instrument::profiling::symbolize::tests::a_function_with_a_findable_name",
            "the full path from the symbol table"
        );
        assert!(physical.system_name.starts_with("_ZN") || physical.system_name.starts_with("_R"));
        assert!(physical.file.ends_with("symbolize.rs"), "{physical:?}");
        assert_eq!(symbolizer.cached(), 1);
        assert!(Arc::ptr_eq(&frames, &symbolizer.resolve(address + 1)));
    }

    #[test]
    fn vdso_code_is_named_by_the_dynamic_loader() {
        // SAFETY: `getauxval` only reads the auxiliary vector.
        let vdso = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) } as usize;
        assert_ne!(vdso, 0, "Linux maps a vDSO into every process");
        let clock_gettime = (vdso..vdso + 0x4000)
            .step_by(16)
            .filter_map(|a| dynamic_symbol(a + 1))
            .find(|name| name.contains("clock_gettime"));
        assert!(clock_gettime.is_some(), "the vDSO exports clock_gettime");
    }

    #[test]
    fn unknown_addresses_get_one_unknown_frame_and_the_cache_stays_bounded() {
        let mut symbolizer = Symbolizer::new(2);
        for address in [16usize, 32, 48, 64] {
            let frames = symbolizer.resolve(address);
            assert_eq!(frames.len(), 1);
            assert_eq!(frames[0].name, UNKNOWN_FUNCTION);
        }
        assert!(symbolizer.cached() <= 2);
    }
}
