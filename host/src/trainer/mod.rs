//! The trainer loop.
