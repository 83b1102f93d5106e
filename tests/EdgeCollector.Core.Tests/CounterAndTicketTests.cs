using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using static EdgeCollector.Core.Tests.TestPlant;

namespace EdgeCollector.Core.Tests;

public class CounterLogicTests
{
    private static readonly long T0 = T("2026-11-21T08:00:00Z");
    private static long Hours(double h) => T0 + (long)(h * TimeSpan.TicksPerHour);

    [Fact]
    public void First_reading_only_sets_the_baseline_and_a_second_at_the_same_instant_is_ignored()
    {
        var s = new CounterState();
        Assert.Equal(CounterOutcome.Baseline, CounterLogic.Apply(s, T0, 100, null, null).Outcome);
        Assert.Equal(CounterOutcome.Ignored, CounterLogic.Apply(s, T0, 500, null, null).Outcome);
        var r = CounterLogic.Apply(s, Hours(1), 110, null, null);
        Assert.Equal((CounterOutcome.Accepted, T0, Hours(1), 10.0), (r.Outcome, r.From, r.To, r.Delta));
    }

    [Fact]
    public void A_drop_with_Max_declared_is_a_rollover()
    {
        var s = new CounterState();
        CounterLogic.Apply(s, T0, 999_990, 1_000_000, null);
        var r = CounterLogic.Apply(s, Hours(1), 15, 1_000_000, null);
        Assert.Equal(CounterOutcome.Accepted, r.Outcome);
        Assert.True(r.Rollover);
        Assert.False(r.Reset);
        Assert.Equal(25, r.Delta, 1e-9);
    }

    [Fact]
    public void A_drop_without_Max_is_a_reset_whose_delta_is_the_new_value()
    {
        var s = new CounterState();
        CounterLogic.Apply(s, T0, 5000, null, null);
        var r = CounterLogic.Apply(s, Hours(1), 20, null, null);
        Assert.True(r.Reset);
        Assert.Equal(20, r.Delta);
    }

    [Fact]
    public void A_spike_is_rejected_keeps_the_baseline_and_the_next_reading_recovers_the_energy()
    {
        var s = new CounterState();
        CounterLogic.Apply(s, T0, 0, null, 100);
        var spike = CounterLogic.Apply(s, Hours(1), 1000, null, 100);      // 1000/h > 100/h
        Assert.Equal(CounterOutcome.Rejected, spike.Outcome);
        Assert.Equal((T0, Hours(1)), (spike.From, spike.To));
        Assert.Equal(T0, s.BaseTicks);
        var next = CounterLogic.Apply(s, Hours(2), 150, null, 100);         // 150 over 2 h = 75/h
        Assert.Equal(CounterOutcome.Accepted, next.Outcome);
        Assert.Equal((T0, Hours(2), 150.0), (next.From, next.To, next.Delta));
    }

    [Fact]
    public void The_rate_limit_is_strict_and_applies_to_reset_deltas_too()
    {
        var s = new CounterState();
        CounterLogic.Apply(s, T0, 0, null, 100);
        Assert.Equal(CounterOutcome.Accepted, CounterLogic.Apply(s, Hours(1), 100, null, 100).Outcome);  // exactly the limit
        var reset = CounterLogic.Apply(s, Hours(2), 500, null, 100);   // 400 in 1 h > 100/h
        Assert.Equal(CounterOutcome.Rejected, reset.Outcome);
        var s2 = new CounterState();
        CounterLogic.Apply(s2, T0, 1000, null, 100);
        var bigReset = CounterLogic.Apply(s2, Hours(1), 300, null, 100);  // reset delta 300 in 1 h > 100
        Assert.Equal(CounterOutcome.Rejected, bigReset.Outcome);
        Assert.True(bigReset.Reset);
    }

    [Fact]
    public void Three_rejections_in_a_row_rebase_on_the_latest_without_counting_the_jump()
    {
        var s = new CounterState();
        CounterLogic.Apply(s, T0, 0, null, 100);
        Assert.Equal(CounterOutcome.Rejected, CounterLogic.Apply(s, Hours(1), 10_000, null, 100).Outcome);
        Assert.Equal(CounterOutcome.Rejected, CounterLogic.Apply(s, Hours(2), 10_050, null, 100).Outcome);
        var third = CounterLogic.Apply(s, Hours(3), 10_100, null, 100);
        Assert.Equal(CounterOutcome.Rebased, third.Outcome);
        Assert.Equal((T0, Hours(3)), (third.From, third.To));
        Assert.Equal(10_100, s.BaseValue);
        var after = CounterLogic.Apply(s, Hours(4), 10_150, null, 100);
        Assert.Equal((CounterOutcome.Accepted, 50.0), (after.Outcome, after.Delta));
    }

    [Fact]
    public void Step_series_mean_is_time_weighted_and_holds_the_constant_before_the_first_reading()
    {
        var s = new StepSeries();
        s.Add(Hours(1), 200);
        Assert.Equal(150, s.MeanOver(T0, Hours(2), 100), 1e-12);
        s.Add(Hours(1.5), 300);
        Assert.Equal((100 + 200 * 0.5 + 300 * 0.5) / 2, s.MeanOver(T0, Hours(2), 100), 1e-12);
        Assert.Equal(300, s.ValueAt(Hours(3)));
        Assert.Null(s.ValueAt(T0));
    }
}

public class EngineCounterFlagTests
{
    private static readonly long H0 = T("2026-11-21T08:00:00Z");

    private static Harness PowerOnly(double? max = null, double? rate = null) => new(Config(
        [Furnace("F1", meters: [new MeterConfig { Tag = "F1.Power", Kind = MeterKind.Electricity }])],
        tags: [new TagConfig { Tag = "F1.Power", Unit = "kWh", Counter = new CounterConfig { Max = max, MaxRatePerHour = rate } }]));

    [Fact]
    public void A_reset_flags_every_window_overlapping_its_delta_for_the_furnace_and_the_site()
    {
        var h = PowerOnly();
        h.Sample("F1.Power", H0, 5000).Sample("F1.Power", At(H0, 60), 5010).Sample("F1.Power", At(H0, 120), 7).Sample("F1.Power", At(H0, 180), 17);
        Assert.Empty(h.Window("F1", "minute", "2026-11-21T08:00:00Z").Flags());
        Assert.Equal(["counter-reset"], h.Window("F1", "minute", "2026-11-21T08:01:00Z").Flags());
        Assert.Equal(["counter-reset"], h.Window("site", "minute", "2026-11-21T08:01:00Z").Flags());
        Assert.Equal(7, h.Window("F1", "minute", "2026-11-21T08:01:00Z").Num("energy.electricityKWh"), 1e-9);
        Assert.Empty(h.Window("F1", "minute", "2026-11-21T08:02:00Z").Flags());
        Assert.Equal(1, h.Engine.Counters.Resets);
    }

    [Fact]
    public void A_rollover_counts_through_Max_without_a_flag()
    {
        var h = PowerOnly(max: 10_000);
        h.Sample("F1.Power", H0, 9_990).Sample("F1.Power", At(H0, 60), 20);
        var m = h.Window("F1", "minute", "2026-11-21T08:00:00Z");
        Assert.Equal(30, m.Num("energy.electricityKWh"), 1e-9);
        Assert.Empty(m.Flags());
    }

    [Fact]
    public void A_rejected_spike_flags_baseline_to_reading_and_keeps_the_window_complete_when_recovered()
    {
        var h = PowerOnly(rate: 600);                        // 10 kWh per minute at most
        h.Sample("F1.Power", H0, 0);
        h.Sample("F1.Power", At(H0, 60), 900);               // rejected spike
        h.Sample("F1.Power", At(H0, 120), 12);               // recovers 12 kWh over [08:00, 08:02)
        var m0 = h.Window("F1", "minute", "2026-11-21T08:00:00Z");
        Assert.Equal(["counter-spike-rejected"], m0.Flags());
        Assert.Equal(6, m0.Num("energy.electricityKWh"), 1e-9);
        Assert.True(m0.GetProperty("quality").GetProperty("complete").GetBoolean());
        Assert.Empty(h.Window("F1", "minute", "2026-11-21T08:01:00Z").Flags());   // [08:00, 08:01) only
    }

    [Fact]
    public void A_rebase_flags_and_marks_the_jump_windows_incomplete_and_does_not_count_the_jump()
    {
        var h = PowerOnly(rate: 600);
        h.Sample("F1.Power", H0, 0);
        h.Sample("F1.Power", At(H0, 60), 90_000).Sample("F1.Power", At(H0, 120), 90_005).Sample("F1.Power", At(H0, 180), 90_010);
        h.Sample("F1.Power", At(H0, 240), 90_015);
        var m = h.Window("F1", "minute", "2026-11-21T08:01:00Z");
        Assert.Contains("counter-rebased", m.Flags());
        Assert.False(m.GetProperty("quality").GetProperty("complete").GetBoolean());
        Assert.Equal(0, m.Num("energy.electricityKWh"));
        var after = h.Window("F1", "minute", "2026-11-21T08:03:00Z");
        Assert.Equal(5, after.Num("energy.electricityKWh"), 1e-9);
        Assert.True(after.GetProperty("quality").GetProperty("complete").GetBoolean());
    }

    [Fact]
    public void Bad_samples_are_ignored_entirely_and_uncertain_ones_are_used_and_counted()
    {
        var h = PowerOnly();
        h.Sample("F1.Power", H0, 0).Sample("F1.Power", At(H0, 30), 99999, SampleQuality.Bad)
         .Sample("F1.Power", At(H0, 60), 10, SampleQuality.Uncertain);
        Assert.Equal(10, h.Window("F1", "minute", "2026-11-21T08:00:00Z").Num("energy.electricityKWh"), 1e-9);
        Assert.Equal(1, h.Engine.Counters.BadIgnored);
        Assert.Equal(1, h.Engine.Counters.Uncertain);
    }

    [Fact]
    public void Energy_units_of_the_tag_are_converted_to_kWh()
    {
        var h = new Harness(Config([Furnace("F1", meters: [new MeterConfig { Tag = "F1.Power", Kind = MeterKind.Electricity }])],
            tags: [new TagConfig { Tag = "F1.Power", Unit = "Wh" }]));
        h.Sample("F1.Power", H0, 0).Sample("F1.Power", At(H0, 60), 2500);
        Assert.Equal(2.5, h.Window("F1", "minute", "2026-11-21T08:00:00Z").Num("energy.electricityKWh"), 1e-12);
    }

    [Fact]
    public void Actual_volume_is_corrected_with_time_weighted_pressure_and_temperature()
    {
        var meter = new MeterConfig
        {
            Tag = "F1.Gas", Kind = MeterKind.Fuel, Fuel = "NaturalGas", Volume = VolumeBasis.Actual,
            PressureTag = "F1.GasP", TemperatureTag = "F1.GasT",
        };
        var h = new Harness(Config([Furnace("F1", meters: [meter])]));
        h.Sample("F1.GasP", H0, 200).Sample("F1.GasT", H0, 20).Sample("F1.Gas", H0, 0);
        h.Sample("F1.GasP", At(H0, 30), 300);                // P is 200 for 30 s, 300 for 30 s: mean 250
        h.Sample("F1.Gas", At(H0, 60), 100);
        double expected = 100 * (250 / 101.325) * 273.15 / (273.15 + 20);
        Assert.Equal(expected, h.Window("F1", "minute", "2026-11-21T08:00:00Z").Num("energy.gasNm3"), 1e-9);
    }

    [Fact]
    public void A_standard_volume_at_20C_is_scaled_to_0C()
    {
        var meter = new MeterConfig { Tag = "F1.Gas", Kind = MeterKind.Fuel, Fuel = "NaturalGas", BaseTemperatureC = 20 };
        var h = new Harness(Config([Furnace("F1", meters: [meter])]));
        h.Sample("F1.Gas", H0, 0).Sample("F1.Gas", At(H0, 60), 100);
        Assert.Equal(100 * 273.15 / 293.15, h.Window("F1", "minute", "2026-11-21T08:00:00Z").Num("energy.gasNm3"), 1e-9);
    }
}

public class ScaleTicketTests
{
    private static readonly long S0 = T("2026-11-21T08:00:00Z");

    private static List<TimedValue> Run(IEnumerable<(double s, double kg, bool? motion)> readings, double stableSeconds = 2)
    {
        var state = new ScaleTicketState();
        var tickets = new List<TimedValue>();
        foreach (var (s, kg, motion) in readings)
        {
            if (state.Add(At(S0, s), kg, motion, zeroBandKg: 5, stableBandKg: 2, stableTicks: (long)(stableSeconds * TimeSpan.TicksPerSecond)) is TimedValue t)
            {
                tickets.Add(t);
            }
        }

        return tickets;
    }

    [Fact]
    public void A_ticket_is_made_once_when_the_weight_held_within_the_band_for_StableSeconds()
    {
        var t = Run([(0, 0, false), (1, 3000, true), (2, 7990, false), (3, 8000, false), (4, 8001, false), (5, 8000, false), (6, 8001, false), (7, 8000, false)]);
        var ticket = Assert.Single(t);
        Assert.Equal(At(S0, 5), ticket.Ticks);    // run began at 3 s (7990 is 11 kg off), held 2 s at 5 s
        Assert.Equal(8000, ticket.Value);
    }

    [Fact]
    public void A_load_back_at_zero_without_a_ticket_is_reported_once_with_its_span_and_peak()
    {
        var state = new ScaleTicketState();
        var lost = new List<UnticketedLoad>();
        // Up, 1 s held (StableSeconds 2), down; then a load that does make a ticket; then zero again.
        (double s, double kg, bool? motion)[] readings =
            [(0, 0, false), (1, 388, true), (2, 390, false), (3, 389, false), (4, 0, false), (5, 0, false),
             (6, 500, false), (7, 500, false), (8, 500, false), (9, 0, false)];
        int tickets = 0;
        foreach (var (s, kg, motion) in readings)
        {
            if (state.Add(At(S0, s), kg, motion, zeroBandKg: 5, stableBandKg: 2, stableTicks: 2 * TimeSpan.TicksPerSecond, out var u) is TimedValue)
            {
                tickets++;
            }

            if (u is UnticketedLoad l)
            {
                lost.Add(l);
            }
        }

        Assert.Equal(1, tickets);
        var only = Assert.Single(lost);
        Assert.Equal(new UnticketedLoad(At(S0, 1), At(S0, 3), 390, 3), only);
    }

    [Fact]
    public void Readings_in_motion_never_make_a_ticket_and_break_the_run()
    {
        Assert.Empty(Run([(0, 8000, true), (1, 8000, true), (2, 8000, true), (3, 8000, true)]));
        var t = Run([(0, 8000, false), (1, 8000, false), (1.5, 8000, true), (2, 8000, false), (3, 8000, false), (4, 8000, false)]);
        Assert.Equal(At(S0, 4), Assert.Single(t).Ticks);
    }

    [Fact]
    public void No_new_ticket_until_the_weight_is_back_within_the_zero_band()
    {
        var readings = new List<(double, double, bool?)>();
        for (int i = 0; i < 10; i++) readings.Add((i, 9000, false));
        readings.Add((10, 4000, null));                  // partly unloaded: no new ticket, still a load
        for (int i = 11; i < 20; i++) readings.Add((i, 4000, null));
        readings.Add((20, 3, null));                     // back to zero
        for (int i = 21; i < 25; i++) readings.Add((i, 8140, null));
        var t = Run(readings);
        Assert.Equal([9000.0, 8140.0], t.Select(x => x.Value));
    }

    [Fact]
    public void Without_a_motion_flag_stability_is_inferred_from_the_band()
    {
        var t = Run([(0, 100, null), (1, 5000, null), (2, 7000, null), (3, 8000, null), (4, 8001, null), (5, 8000, null)]);
        Assert.Equal(At(S0, 5), Assert.Single(t).Ticks);
    }
}
