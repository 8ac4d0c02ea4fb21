//! seqeval metrics (exact port of Python seqeval 1.2.2) as medkit-rs operations.
//!
//! - [`classification_report`] / [`accuracy_score`]: seqeval's functions (default and strict
//!   modes, schemes IOB1, IOB2, IOE1, IOE2, IOBES, BILOU). Default mode reads tags it does not
//!   know (BILOU's L-/U-, X-foo, ...) by their first character, as seqeval; [`unknown_tags`]
//!   lists those seqeval warns about.
//! - the `seqeval` metrics operation: medkit's SeqEvalMetricsComputer, plus a "report" mode that
//!   returns the whole classification report (used by `medkit seqeval`).

mod default_mode;
mod error;
mod op;
mod report;
mod strict;

pub use default_mode::{get_entities, is_ne_tag, unknown_tags};
pub use error::SeqevalError;
pub use op::{OpConfig, SeqevalOp};
pub use report::{accuracy_score, classification_report, Mode, Report, Row, ZeroDivision};
pub use strict::{auto_detect, validate as validate_strict_tag, StrictScheme};

medkit_sdk::export_plugin!();
