//! UTC time, as file templates and revision headers show it.

/// A UTC timestamp, enough for file names and `Create Date:` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
    pub epoch: i64,
}

impl Utc {
    pub fn now() -> Utc {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Utc::from_epoch(d.as_secs() as i64, d.subsec_micros())
    }

    /// A time to the minute, as a header shows it: `2026-12-05 22:03`.
    pub fn format_minutes(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }

    /// Django's name timestamp (`get_migration_name_timestamp`): `20261205_2203`.
    pub fn format_compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}_{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }

    pub fn from_epoch(epoch: i64, micros: u32) -> Utc {
        let days = epoch.div_euclid(86_400);
        let secs = epoch.rem_euclid(86_400);
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Utc {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
            micros,
            epoch,
        }
    }

    /// Python's `str(datetime)`: `2026-06-05 14:02:11.123456`, without the
    /// fraction when it is zero.
    pub fn python_str(&self) -> String {
        let base = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.micros == 0 {
            base
        } else {
            format!("{base}.{:06}", self.micros)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        let t = Utc::from_epoch(1_780_668_131, 42);
        assert_eq!(t.python_str(), "2026-06-05 14:02:11.000042");
        assert_eq!(
            Utc::from_epoch(951_782_400, 0).python_str(),
            "2000-02-29 00:00:00"
        );
    }
}
