//! Reusable reactive behaviour, `use_x()` style: `use_polled` for every
//! read a panel shows, `use_write` for every write a panel sends. Their
//! reactive logic is tested natively, under an `Owner`, with `testing`.

#[cfg(test)]
pub(crate) mod testing;
pub mod use_polled;
pub mod use_write;
