//! Building a pprof [`Profile`]: interned strings, functions and locations with dense ids.
//!
//! pprof stores every string once in `string_table` (index 0 is `""`) and refers to functions
//! and locations by nonzero ids; samples list location ids leaf first. The builder hands out
//! those indices and ids as things are first seen, so identical names, functions and addresses
//! are stored once however many samples share them.

use std::collections::HashMap;

use super::proto::{Function, Label, Line, Location, Mapping, Profile, Sample, ValueType};
use super::symbolize::SymbolFrame;

/// Accumulates one profile.
pub(crate) struct ProfileBuilder {
    strings: Vec<String>,
    string_index: HashMap<String, i64>,
    functions: Vec<Function>,
    function_index: HashMap<(i64, i64, i64), u64>,
    locations: Vec<Location>,
    location_index: HashMap<u64, u64>,
    samples: Vec<Sample>,
    mapping: Option<Mapping>,
}

impl Default for ProfileBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ProfileBuilder {
    /// An empty builder; the string table starts with `""` as pprof requires.
    pub(crate) fn new() -> Self {
        Self {
            strings: vec![String::new()],
            string_index: HashMap::from([(String::new(), 0)]),
            functions: Vec::new(),
            function_index: HashMap::new(),
            locations: Vec::new(),
            location_index: HashMap::new(),
            samples: Vec::new(),
            mapping: None,
        }
    }

    /// The string-table index of `s`, adding it on first use.
    pub(crate) fn string(&mut self, s: &str) -> i64 {
        if let Some(&index) = self.string_index.get(s) {
            return index;
        }
        let index = self.strings.len() as i64;
        self.strings.push(s.to_owned());
        self.string_index.insert(s.to_owned(), index);
        index
    }

    /// The id of the function with this name, system name and file, adding it on first use.
    pub(crate) fn function(&mut self, name: &str, system_name: &str, file: &str) -> u64 {
        let key = (
            self.string(name),
            self.string(system_name),
            self.string(file),
        );
        if let Some(&id) = self.function_index.get(&key) {
            return id;
        }
        let id = self.functions.len() as u64 + 1;
        self.functions.push(Function {
            id,
            name: key.0,
            system_name: key.1,
            filename: key.2,
            start_line: 0,
        });
        self.function_index.insert(key, id);
        id
    }

    /// Declares the one mapping every location belongs to: the whole address space, attributed
    /// to `filename`, with symbols already resolved (so pprof tools do not try to re-symbolize).
    pub(crate) fn set_main_mapping(&mut self, filename: &str) {
        let filename = self.string(filename);
        self.mapping = Some(Mapping {
            id: 1,
            memory_start: 0,
            memory_limit: u64::MAX,
            file_offset: 0,
            filename,
            build_id: 0,
            has_functions: true,
            has_filenames: true,
            has_line_numbers: true,
            has_inline_frames: true,
        });
    }

    /// The id of the location at `address`; on first use its lines come from `frames`
    /// (innermost inlined function first).
    pub(crate) fn location(&mut self, address: u64, frames: &[SymbolFrame]) -> u64 {
        if let Some(&id) = self.location_index.get(&address) {
            return id;
        }
        let line = frames
            .iter()
            .map(|f| Line {
                function_id: self.function(&f.name, &f.system_name, &f.file),
                line: i64::from(f.line),
            })
            .collect();
        let id = self.locations.len() as u64 + 1;
        self.locations.push(Location {
            id,
            mapping_id: if self.mapping.is_some() { 1 } else { 0 },
            address,
            line,
            is_folded: false,
        });
        self.location_index.insert(address, id);
        id
    }

    /// Adds a sample: location ids leaf first, one value per sample type, string labels.
    pub(crate) fn sample(
        &mut self,
        location_id: Vec<u64>,
        value: Vec<i64>,
        labels: &[(&str, &str)],
    ) {
        let label = labels
            .iter()
            .map(|(key, value)| Label {
                key: self.string(key),
                str: self.string(value),
                num: 0,
                num_unit: 0,
            })
            .collect();
        self.samples.push(Sample {
            location_id,
            value,
            label,
        });
    }

    /// Finishes the profile with its sample types, period and time range.
    pub(crate) fn build(mut self, header: ProfileHeader<'_>) -> Profile {
        let sample_type = header
            .sample_types
            .iter()
            .map(|(t, u)| ValueType {
                r#type: self.string(t),
                unit: self.string(u),
            })
            .collect();
        let period_type = Some(ValueType {
            r#type: self.string(header.period_type.0),
            unit: self.string(header.period_type.1),
        });
        Profile {
            sample_type,
            sample: self.samples,
            mapping: self.mapping.into_iter().collect(),
            location: self.locations,
            function: self.functions,
            string_table: self.strings,
            drop_frames: 0,
            keep_frames: 0,
            time_nanos: header.time_nanos,
            duration_nanos: header.duration_nanos,
            period_type,
            period: header.period,
            comment: Vec::new(),
            default_sample_type: 0,
        }
    }
}

/// The profile-wide fields [`ProfileBuilder::build`] fills in.
pub(crate) struct ProfileHeader<'a> {
    /// `(type, unit)` per sample value, e.g. `("cpu", "nanoseconds")`.
    pub sample_types: &'a [(&'a str, &'a str)],
    /// `(type, unit)` of the sampling period.
    pub period_type: (&'a str, &'a str),
    /// Events between samples, in `period_type` units.
    pub period: i64,
    /// Start of the profile, nanoseconds since the Unix epoch.
    pub time_nanos: i64,
    /// Length of the profile in nanoseconds.
    pub duration_nanos: i64,
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn frame(name: &str, line: u32) -> SymbolFrame {
        SymbolFrame {
            name: name.to_owned(),
            system_name: format!("_ZN{name}"),
            file: "src/lib.rs".to_owned(),
            line,
        }
    }

    #[test]
    fn strings_are_interned_once_with_the_empty_string_first() {
        let mut b = ProfileBuilder::new();
        assert_eq!(b.string(""), 0);
        let cpu = b.string("cpu");
        assert_eq!(cpu, 1);
        assert_eq!(b.string("cpu"), cpu);
        assert_eq!(b.string("nanoseconds"), 2);
        let p = b.build(ProfileHeader {
            sample_types: &[("cpu", "nanoseconds")],
            period_type: ("cpu", "nanoseconds"),
            period: 10,
            time_nanos: 1,
            duration_nanos: 2,
        });
        assert_eq!(p.string_table, vec!["", "cpu", "nanoseconds"]);
        assert_eq!(p.sample_type, vec![ValueType { r#type: 1, unit: 2 }]);
        assert_eq!(p.period_type, Some(ValueType { r#type: 1, unit: 2 }));
    }

    #[test]
    fn functions_and_locations_get_dense_ids_and_are_shared() {
        let mut b = ProfileBuilder::new();
        b.set_main_mapping("/bin/app");
        let inlined = [frame("inner", 3), frame("outer", 9)];
        let l1 = b.location(0x1000, &inlined);
        let l2 = b.location(0x2000, &[frame("outer", 12)]);
        assert_eq!((l1, l2), (1, 2));
        assert_eq!(b.location(0x1000, &[frame("ignored", 1)]), l1);
        b.sample(
            vec![l1, l2],
            vec![1, 10],
            &[("span_id", "00000000000000ff")],
        );
        b.sample(vec![l2], vec![2, 20], &[]);
        let p = b.build(ProfileHeader {
            sample_types: &[("samples", "count"), ("cpu", "nanoseconds")],
            period_type: ("cpu", "nanoseconds"),
            period: 10,
            time_nanos: 0,
            duration_nanos: 0,
        });
        let names: Vec<&str> = p
            .function
            .iter()
            .map(|f| p.string_table[f.name as usize].as_str())
            .collect();
        assert_eq!(names, vec!["inner", "outer"]);
        assert_eq!(
            p.function.iter().map(|f| f.id).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(
            p.location[0].line,
            vec![
                Line {
                    function_id: 1,
                    line: 3
                },
                Line {
                    function_id: 2,
                    line: 9
                }
            ]
        );
        assert_eq!(
            p.location[1].line,
            vec![Line {
                function_id: 2,
                line: 12
            }]
        );
        assert!(p.location.iter().all(|l| l.mapping_id == 1));
        assert_eq!(p.mapping.len(), 1);
        assert_eq!(p.string_table[p.mapping[0].filename as usize], "/bin/app");
        let label = p.sample[0].label[0];
        assert_eq!(p.string_table[label.key as usize], "span_id");
        assert_eq!(p.string_table[label.str as usize], "00000000000000ff");
        assert!(p.sample[1].label.is_empty());
        let mut sorted = p.string_table.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), p.string_table.len(), "no duplicate strings");
    }

    #[test]
    fn a_profile_round_trips_through_prost() {
        let mut b = ProfileBuilder::new();
        let l = b.location(0x42, &[frame("f", 7)]);
        b.sample(vec![l], vec![3, 30], &[("trace_id", "ab")]);
        let p = b.build(ProfileHeader {
            sample_types: &[("samples", "count"), ("cpu", "nanoseconds")],
            period_type: ("cpu", "nanoseconds"),
            period: 10_000_000,
            time_nanos: 1_700_000_000_000_000_000,
            duration_nanos: 10_000_000_000,
        });
        let bytes = p.encode_to_vec();
        let back = Profile::decode(bytes.as_slice()).expect("own encoding decodes");
        assert_eq!(back, p);
        assert_eq!(back.period, 10_000_000);
        assert_eq!(back.sample[0].value, vec![3, 30]);
        assert_eq!(back.location[0].address, 0x42);
    }
}
