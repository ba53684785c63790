//! Printing for `migfix diagnose`.
