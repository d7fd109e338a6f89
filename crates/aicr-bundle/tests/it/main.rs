//! Integration tests of aicr-bundle.
mod corpus;
mod gotmpl;
