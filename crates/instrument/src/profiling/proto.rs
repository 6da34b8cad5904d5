//! Wire messages, written by hand as `prost` structs so the crate needs no build step.
//!
//! - pprof: `perftools.profiles` from google/pprof `proto/profile.proto`. Field numbers are the
//!   upstream ones; fields this profiler never writes (breakdowns, label sets) are left out, which
//!   protobuf allows: a decoder skips unknown fields.
//! - Pyroscope push: `push.v1.PushRequest` from grafana/pyroscope `api/push/v1/push.proto` with
//!   `types.v1.LabelPair` from `api/types/v1/types.proto`, the body of
//!   `POST /push.v1.PusherService/Push`.

/// `perftools.profiles.Profile`: one profile, every string interned in `string_table`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Profile {
    /// What each entry of `Sample::value` measures.
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// The samples (stack, values, labels).
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    /// Binaries mapped into the address space; `mapping[0]` is the main binary.
    #[prost(message, repeated, tag = "3")]
    pub mapping: Vec<Mapping>,
    /// Program locations referenced by samples.
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// Functions referenced by locations.
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// Every string of the profile; `string_table[0]` is always `""`.
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    /// String index of a regexp of frames to drop.
    #[prost(int64, tag = "7")]
    pub drop_frames: i64,
    /// String index of a regexp of frames to keep.
    #[prost(int64, tag = "8")]
    pub keep_frames: i64,
    /// Start of collection, nanoseconds since the Unix epoch.
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    /// Length of collection in nanoseconds.
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    /// The kind of events between sampled occurrences.
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// The number of events between sampled occurrences.
    #[prost(int64, tag = "12")]
    pub period: i64,
    /// String indices of free-form comments.
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
    /// String index of the preferred sample type.
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
}

/// `perftools.profiles.ValueType`: a type and its unit, both string indices.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct ValueType {
    /// String index of the type, e.g. `cpu`.
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    /// String index of the unit, e.g. `nanoseconds`.
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// `perftools.profiles.Sample`: a stack (leaf first) with one value per sample type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// Location ids, leaf at index 0.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    /// One value per `Profile::sample_type`.
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    /// Labels of this sample (here `trace_id` and `span_id`).
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// `perftools.profiles.Label`: a string or numeric label of a sample.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Label {
    /// String index of the key.
    #[prost(int64, tag = "1")]
    pub key: i64,
    /// String index of the value (string labels).
    #[prost(int64, tag = "2")]
    pub str: i64,
    /// Numeric value (numeric labels).
    #[prost(int64, tag = "3")]
    pub num: i64,
    /// String index of the unit of `num`.
    #[prost(int64, tag = "4")]
    pub num_unit: i64,
}

/// `perftools.profiles.Mapping`: an object file mapped into memory.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Mapping {
    /// Nonzero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Start of the mapped range.
    #[prost(uint64, tag = "2")]
    pub memory_start: u64,
    /// End of the mapped range.
    #[prost(uint64, tag = "3")]
    pub memory_limit: u64,
    /// File offset of `memory_start`.
    #[prost(uint64, tag = "4")]
    pub file_offset: u64,
    /// String index of the file name.
    #[prost(int64, tag = "5")]
    pub filename: i64,
    /// String index of the build id.
    #[prost(int64, tag = "6")]
    pub build_id: i64,
    /// Locations in this mapping carry function names.
    #[prost(bool, tag = "7")]
    pub has_functions: bool,
    /// Locations in this mapping carry file names.
    #[prost(bool, tag = "8")]
    pub has_filenames: bool,
    /// Locations in this mapping carry line numbers.
    #[prost(bool, tag = "9")]
    pub has_line_numbers: bool,
    /// Locations in this mapping carry inlined frames.
    #[prost(bool, tag = "10")]
    pub has_inline_frames: bool,
}

/// `perftools.profiles.Location`: one address and the source lines it stands for.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Location {
    /// Nonzero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Id of the mapping the address lies in.
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    /// Instruction address (a return address for non-leaf frames).
    #[prost(uint64, tag = "3")]
    pub address: u64,
    /// Inlined functions first, the physical function last.
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
    /// Several symbols share this address (identical code folding).
    #[prost(bool, tag = "5")]
    pub is_folded: bool,
}

/// `perftools.profiles.Line`: a function and a line in it.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Line {
    /// Id of the function.
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    /// Source line number.
    #[prost(int64, tag = "2")]
    pub line: i64,
}

/// `perftools.profiles.Function`: a named function in a source file.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Function {
    /// Nonzero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// String index of the human-readable (demangled) name.
    #[prost(int64, tag = "2")]
    pub name: i64,
    /// String index of the name as the system knows it.
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    /// String index of the source file.
    #[prost(int64, tag = "4")]
    pub filename: i64,
    /// First line of the function.
    #[prost(int64, tag = "5")]
    pub start_line: i64,
}

/// `push.v1.PushRequest`: the body of `POST /push.v1.PusherService/Push`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushRequest {
    /// Profiles grouped by series labels.
    #[prost(message, repeated, tag = "1")]
    pub series: Vec<RawProfileSeries>,
}

/// `push.v1.RawProfileSeries`: one series (label set) and its profiles.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RawProfileSeries {
    /// Series labels: `__name__`, `service_name` and the configured ones.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<LabelPair>,
    /// The profiles of this series.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<RawSample>,
}

/// `push.v1.RawSample`: one serialized (here gzipped) pprof profile.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RawSample {
    /// The pprof bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub raw_profile: Vec<u8>,
    /// A unique id of the profile (a UUID).
    #[prost(string, tag = "2")]
    pub id: String,
}

/// `types.v1.LabelPair`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct LabelPair {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `push.v1.PushResponse`: empty.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct PushResponse {}
