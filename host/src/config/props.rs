//! Property tests of reading flows.toml: no text makes it panic, every problem is placed inside
//! the file, and a number is taken exactly when it is inside its range. The case count comes from
//! `PROPTEST_CASES` (256 by default); the long run is in docs/testing.md.

use proptest::prelude::*;

use super::tests::{GOOD, parse};

/// `text` with `insert` put in at the nearest character boundary at or before `at`.
fn damaged(text: &str, at: usize, insert: &str) -> String {
    let at = (0..=at.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}{insert}{}", &text[..at], &text[at..])
}

/// A float as TOML writes it (`nan`, `inf`, `1e300`).
fn toml_float(x: f64) -> String {
    toml::Value::Float(x).to_string()
}

proptest! {
    #[test]
    fn no_text_makes_reading_panic(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn a_damaged_file_is_read_or_refused_with_problems_inside_it(
        at in 0..GOOD.len(),
        insert in r#"[\[\]{}=",.#a-z0-9 \n$:-]{1,12}"#,
    ) {
        let text = damaged(GOOD, at, &insert);
        if let Err(error) = parse(&text) {
            prop_assert!(!error.problems.is_empty());
            let lines = text.lines().count().max(1);
            for problem in &error.problems {
                if let Some((line, column)) = problem.position {
                    prop_assert!((1..=lines + 1).contains(&line), "{error}");
                    prop_assert!(column >= 1, "{error}");
                }
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }

    #[test]
    fn a_batch_size_is_taken_exactly_when_inside_its_range(n in any::<i64>()) {
        let text = GOOD.replace("batch_size = 50", &format!("batch_size = {n}"));
        prop_assert_eq!(parse(&text).is_ok(), (1..=100_000).contains(&n));
    }

    #[test]
    fn retention_is_taken_exactly_when_inside_its_range(days in any::<i64>()) {
        let text = format!("[host]\nretention_days = {days}\n{GOOD}");
        prop_assert_eq!(parse(&text).is_ok(), (1..=3650).contains(&days));
    }

    #[test]
    fn a_rate_window_is_taken_exactly_when_pacing_can_use_it(
        secs in prop_oneof![any::<f64>(), -10.0..100_000.0f64],
    ) {
        let url = "url = \"http://127.0.0.1:8802\"";
        let text = GOOD.replace(
            url,
            &format!("{url}\nrate_limits = {{ total_per_window = 5, window_secs = {} }}", toml_float(secs)),
        );
        let usable = (0.001..=86_400.0).contains(&secs);
        match parse(&text) {
            Ok(config) => {
                prop_assert!(usable, "{secs} was taken");
                let limits = config.connections["pos"].rate_limits.clone().unwrap();
                prop_assert!(limits.window().as_secs_f64() > 0.0);
            }
            Err(error) => {
                prop_assert!(!usable, "{secs} was refused: {error}");
                prop_assert!(error.to_string().contains("window_secs"), "{error}");
            }
        }
    }
}
