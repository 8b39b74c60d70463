//! `oauth_timestamp` checks (RFC 5849 §3.3): seconds since the epoch, within
//! a window around the server's clock.

use crate::protocol::error::{Problem, ProtocolError};

/// How far a request's `oauth_timestamp` may be from the server's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampWindow {
    /// Seconds a timestamp may lag behind the server's clock. Defaults to 300.
    pub past_secs: u64,
    /// Seconds a timestamp may run ahead of the server's clock. Defaults to 300.
    pub future_secs: u64,
}

impl Default for TimestampWindow {
    fn default() -> Self {
        Self {
            past_secs: 300,
            future_secs: 300,
        }
    }
}

impl TimestampWindow {
    /// Checks a decoded `oauth_timestamp` against `now` (Unix seconds).
    ///
    /// Any number of digits is accepted (leading zeros included); anything
    /// but ASCII digits → 400 `parameter_rejected`; outside the window → 401
    /// `timestamp_refused` with `oauth_acceptable_timestamps`. Returns the
    /// timestamp.
    pub fn check(&self, timestamp: &str, now: u64) -> Result<u64, ProtocolError> {
        self.check_parsed(parse_timestamp(timestamp), now)
    }

    /// [`TimestampWindow::check`] of a timestamp already parsed by
    /// [`parse_timestamp`] (`None`: not a number).
    pub(crate) fn check_parsed(
        &self,
        timestamp: Option<u64>,
        now: u64,
    ) -> Result<u64, ProtocolError> {
        let Some(ts) = timestamp else {
            return Err(ProtocolError::new(Problem::ParameterRejected)
                .with_advice("oauth_timestamp must be a number of seconds"));
        };
        let earliest = now.saturating_sub(self.past_secs);
        let latest = now.saturating_add(self.future_secs);
        if ts < earliest || ts > latest {
            return Err(ProtocolError::timestamp_refused(earliest, latest));
        }
        Ok(ts)
    }
}

/// The seconds of an `oauth_timestamp`: one or more ASCII digits, leading
/// zeros allowed; too many for a `u64` reads as `u64::MAX`, which is
/// certainly in the future. `None` for anything else.
pub(crate) fn parse_timestamp(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |seconds, b| {
        b.is_ascii_digit().then(|| {
            seconds
                .saturating_mul(10)
                .saturating_add(u64::from(b - b'0'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_inclusive_and_reports_the_range() {
        let w = TimestampWindow::default();
        assert_eq!(w.check("1000", 1000), Ok(1000));
        assert_eq!(w.check("0000700", 1000), Ok(700));
        assert_eq!(w.check("1300", 1000), Ok(1300));
        let e = w.check("699", 1000).unwrap_err();
        assert_eq!((e.status(), e.problem()), (401, Problem::TimestampRefused));
        assert_eq!(e.acceptable_timestamps(), Some((700, 1300)));
        let e = w.check("99999999999999999999999", 1000).unwrap_err();
        assert_eq!(e.problem(), Problem::TimestampRefused);
        assert_eq!(w.check("0", 100), Ok(0));
        assert_eq!(w.check("000", 100), Ok(0));
        assert_eq!(parse_timestamp("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_timestamp("18446744073709551616"), Some(u64::MAX));
        assert_eq!(
            parse_timestamp("0018446744073709551614"),
            Some(u64::MAX - 1)
        );
        for bad in ["", "abc", "-5", "+5", "1.5", " 1", "1 ", "١"] {
            let e = w.check(bad, 1000).unwrap_err();
            assert_eq!((e.status(), e.problem()), (400, Problem::ParameterRejected));
        }
    }
}
