// The tags of the compact form, shared by the decoder (`embedded.rs`)
// and the encoder (`build.rs`, through `include!`).

/// `null`.
pub const NULL: u8 = 0;
/// `false`.
pub const FALSE: u8 = 1;
/// `true`.
pub const TRUE: u8 = 2;
/// A non-negative integer: 16 hex digits.
pub const U64: u8 = 3;
/// A negative integer: 16 hex digits of its two's complement.
pub const I64: u8 = 4;
/// A float: 16 hex digits of its IEEE 754 bits.
pub const F64: u8 = 5;
/// A string: length, then UTF-8 bytes.
pub const STR: u8 = 6;
/// A sequence: element count, then the elements.
pub const SEQ: u8 = 7;
/// A mapping: entry count, then key (a `STR` value) and value, in order.
pub const MAP: u8 = 8;
