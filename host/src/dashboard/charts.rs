//! The dashboard's two charts, drawn on the server as SVG with plotters: records per run (by
//! outcome) and failures over time (failed and parked records per day).

use anyhow::Result;
use chrono::{Duration, NaiveDate, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::state::{Outcome, Run};

const WIDTH: u32 = 600;
const HEIGHT: u32 = 280;
/// The legend's room, right of the plot.
const LEGEND: u32 = 100;
const FONT: &str = "sans-serif";
/// The fewest bars' places, so that a few runs do not make a few wide blocks.
const MIN_SLOTS: usize = 10;

/// The colour of an outcome, as the pages' badges show it.
fn colour(outcome: Outcome) -> RGBColor {
    match outcome {
        Outcome::Created => RGBColor(46, 125, 50),
        Outcome::Updated => RGBColor(21, 101, 192),
        Outcome::Unchanged => RGBColor(176, 190, 197),
        Outcome::Skipped => RGBColor(141, 110, 99),
        Outcome::Parked => RGBColor(239, 108, 0),
        Outcome::Failed => RGBColor(198, 40, 40),
    }
}

/// A chart with its caption and room for the axes' labels.
fn builder<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .margin(12)
        .caption(caption, (FONT, 17))
        .x_label_area_size(28)
        .y_label_area_size(44);
    builder
}

/// The series' names and colours, in the room right of the plot.
fn legend(area: &DrawingArea<SVGBackend<'_>, Shift>, series: &[(Outcome, bool)]) -> Result<()> {
    for (i, (outcome, bar)) in series.iter().enumerate() {
        let y = 44 + 22 * i32::try_from(i).unwrap_or(0);
        let fill = colour(*outcome);
        if *bar {
            area.draw(&Rectangle::new([(6, y - 6), (18, y + 6)], fill.filled()))?;
        } else {
            area.draw(&PathElement::new(
                vec![(4, y), (20, y)],
                fill.stroke_width(2),
            ))?;
        }
        area.draw(&Text::new(outcome.as_str(), (26, y - 7), (FONT, 13)))?;
    }
    Ok(())
}

fn count(run: &Run, outcome: Outcome) -> u64 {
    run.counts.get(&outcome).copied().unwrap_or(0)
}

/// Stacked bars, one per run (oldest first), each outcome in its colour.
pub fn records_per_run(runs: &[Run]) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let (plot, side) = root.split_horizontally(WIDTH - LEGEND);
        let slots = runs.len().max(MIN_SLOTS);
        let highest = runs
            .iter()
            .map(|r| r.counts.values().sum::<u64>())
            .max()
            .unwrap_or(0)
            .max(1);
        // A segmented range of 0..n has n + 1 places.
        let mut chart = builder(&plot, "Records per run").build_cartesian_2d(
            (0..slots - 1).into_segmented(),
            0..highest + highest / 5 + 1,
        )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(slots.min(16))
            .x_label_formatter(&|v| {
                match v {
                    SegmentValue::CenterOf(i) => runs.get(*i).map(|r| format!("#{}", r.id)),
                    _ => None,
                }
                .unwrap_or_default()
            })
            .y_desc("records")
            .label_style((FONT, 13))
            .draw()?;
        for outcome in Outcome::ALL {
            let bars = runs.iter().enumerate().filter_map(|(i, run)| {
                let n = count(run, outcome);
                let below: u64 = Outcome::ALL
                    .iter()
                    .take_while(|o| **o != outcome)
                    .map(|o| count(run, *o))
                    .sum();
                (n > 0).then(|| {
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), below),
                            (SegmentValue::Exact(i + 1), below + n),
                        ],
                        colour(outcome).filled(),
                    );
                    bar.set_margin(0, 0, 4, 4);
                    bar
                })
            });
            chart.draw_series(bars)?;
        }
        let series: Vec<(Outcome, bool)> = Outcome::ALL.iter().rev().map(|o| (*o, true)).collect();
        legend(&side, &series)?;
        root.present()?;
    }
    Ok(svg)
}

/// Failed and parked records per day over the last `days` days (today last).
pub fn failures_over_time(runs: &[Run], days: u32) -> Result<String> {
    let today = Utc::now().date_naive();
    let dates: Vec<NaiveDate> = (0..days)
        .rev()
        .map(|back| today - Duration::days(i64::from(back)))
        .collect();
    let per_day = |outcome: Outcome| -> Vec<(usize, u64)> {
        dates
            .iter()
            .enumerate()
            .map(|(i, day)| {
                let n = runs
                    .iter()
                    .filter(|r| r.started_at.date_naive() == *day)
                    .map(|r| count(r, outcome))
                    .sum();
                (i, n)
            })
            .collect()
    };
    let failed = per_day(Outcome::Failed);
    let parked = per_day(Outcome::Parked);
    let highest = failed
        .iter()
        .chain(&parked)
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let (plot, side) = root.split_horizontally(WIDTH - LEGEND);
        let mut chart = builder(&plot, "Failures per day (UTC)")
            .build_cartesian_2d(0..dates.len().saturating_sub(1).max(1), 0..highest + 1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(dates.len().min(14))
            .x_label_formatter(&|i| {
                dates
                    .get(*i)
                    .map(|d| d.format("%m-%d").to_string())
                    .unwrap_or_default()
            })
            .y_desc("records")
            .label_style((FONT, 13))
            .draw()?;
        for (outcome, points) in [(Outcome::Failed, failed), (Outcome::Parked, parked)] {
            let line = colour(outcome);
            chart.draw_series(LineSeries::new(points, line.stroke_width(2)).point_size(3))?;
        }
        legend(&side, &[(Outcome::Failed, false), (Outcome::Parked, false)])?;
        root.present()?;
    }
    Ok(svg)
}
