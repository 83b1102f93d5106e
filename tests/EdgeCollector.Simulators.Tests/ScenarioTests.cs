using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Simulators.Tests;

/// <summary>The scenario is deterministic and looks like a melt shop (domain-defaults.md "Melting benchmarks").</summary>
public class ScenarioTests
{
    private static SampleShift S => SampleShift.Instance;

    [Fact]
    public void The_same_seed_gives_identical_bytes()
    {
        var again = new PlantScenario(new ScenarioOptions { Seed = 1 }).Generate();
        Assert.Equal(S.RecordingBytes, SampleShift.Bytes(again.WriteRecording));
        Assert.Equal(S.TruthBytes, SampleShift.Bytes(again.WriteTruth));
    }

    [Fact]
    public void Another_seed_gives_another_shift()
    {
        var other = new PlantScenario(new ScenarioOptions { Seed = 2 }).Generate();
        Assert.NotEqual(S.RecordingBytes, SampleShift.Bytes(other.WriteRecording));
    }

    [Theory]
    [InlineData(2, 3, 12)]
    [InlineData(3, 1, 4)]
    [InlineData(4, 4, 24)]
    public void Other_seeds_and_plants_replay_to_their_truth(int seed, int furnaces, int hours)
    {
        var options = new ScenarioOptions { Seed = seed, Furnaces = furnaces, Duration = TimeSpan.FromHours(hours) };
        var result = new PlantScenario(options).Generate();
        var replay = ReplayOutput.Run(options, SampleShift.Bytes(result.WriteRecording), withSiteMeter: true);
        Assert.Empty(replay.Log);
        var engine = replay.Latest("/kpi/heat").ToDictionary(h => h.GetProperty("window").S("heatId"));
        var closed = result.Truth.Heats.Where(h => h.Close is not null).ToList();
        Assert.NotEmpty(closed);
        Assert.Equal(closed.Count, engine.Count);
        foreach (var h in closed)
        {
            var e = engine[h.HeatId];
            Assert.Equal(GroundTruth.FormatTime(h.Open), e.GetProperty("window").S("start"));
            Assert.Equal(GroundTruth.FormatTime(h.Close!.Value), e.GetProperty("window").S("end"));
            Assert.Equal(h.Metal.ChargedKg, e.D("metal", "chargedKg"));
            Assert.Equal(h.Metal.TappedKg, e.D("metal", "tappedKg"));
            Assert.Equal(h.Metal.DrossKg, e.D("metal", "drossKg"));
            Expect.Relative(h.WithSiteMeters.GasNm3, e.D("energy", "gasNm3"), 1e-6, h.HeatId + " gas");
            Expect.Relative(h.WithSiteMeters.ElectricityKWh, e.D("energy", "electricityKWh"), 1e-6, h.HeatId + " kWh");
        }
    }

    [Fact]
    public void Heats_follow_the_melting_benchmarks()
    {
        var closed = S.Result.Truth.Heats.Where(h => h.Close is not null).ToList();
        foreach (var h in closed)
        {
            Assert.InRange(h.Metal.Charges, 3, 6);
            Assert.InRange(h.Metal.Taps, 1, 2);
            Assert.InRange(h.Metal.MeltLossPct!.Value, 2.0 - 0.01, 4.0 + 0.01);
            Assert.InRange(h.Metal.DrossRatio!.Value, 0.015, 0.025);
            double tonnes = h.Metal.TappedKg / 1000;
            // 70–90 Nm3/t and 90–100 kWh/t planned per heat, with noise on every 10 s interval.
            Assert.InRange(h.OwnMeters.GasNm3 / tonnes, 65, 95);
            Assert.InRange(h.OwnMeters.ElectricityKWh / tonnes, 85, 105);
        }

        // Every category of the charge mix turns up in the shift.
        var site = S.Result.Truth.Shifts.Single(s => s.Entity == "site");
        Assert.Equal(Enum.GetValues<Material>().Order(), site.Metal.ChargedByMaterialKg.Keys.Order());
    }

    [Fact]
    public void Each_new_heat_begins_with_a_charge_after_the_previous_heats_taps()
    {
        foreach (var run in S.Result.Furnaces)
        {
            var weighings = run.Weighings.Where(w => w.Recorded).ToList();
            foreach (var heat in weighings.GroupBy(w => w.Heat).Skip(1))
            {
                var previousTaps = weighings.Where(w => w.Heat == heat.Key - 1 && w.Kind == ScaleKind.Tap).ToList();
                Assert.NotEmpty(previousTaps);
                var first = heat.First();
                Assert.Equal(ScaleKind.Charge, first.Kind);
                Assert.True(previousTaps.Max(w => w.Readings[^1].Ticks) < first.Readings[0].Ticks);
            }
        }
    }

    [Fact]
    public void Loads_rise_in_motion_settle_longer_than_StableSeconds_and_return_to_zero()
    {
        foreach (var w in S.Result.Furnaces.SelectMany(r => r.Weighings))
        {
            var r = w.Readings;
            for (int i = 1; i < r.Count; i++)
            {
                Assert.Equal(TimeSpan.TicksPerSecond, r[i].Ticks - r[i - 1].Ticks);
            }

            Assert.True(r[1].Motion && r[1].GrossKg > S.Options.ZeroBandKg);
            var settled = r.Where(x => !x.Motion && x.GrossKg == w.Kg).ToList();
            Assert.True(settled[^1].Ticks - settled[0].Ticks > (long)(S.Options.StableSeconds * TimeSpan.TicksPerSecond));
            Assert.Equal(settled[0].Ticks + (long)(S.Options.StableSeconds * TimeSpan.TicksPerSecond), w.StableAt);
            Assert.All(r.TakeLast(3), x => Assert.Equal((0.0, false), (x.GrossKg, x.Motion)));
            Assert.Equal(w.Kind == ScaleKind.Charge, w.Material is not null);
            Assert.Equal(w.Kg, Math.Round(w.Kg));
        }
    }

    [Fact]
    public void Every_charge_has_its_material_picked_and_a_pick_holds_until_the_next()
    {
        foreach (var run in S.Result.Furnaces)
        {
            Material? current = null;
            var picks = run.Picks.Where(p => p.For.Recorded).ToList();
            foreach (var w in run.Weighings.Where(w => w.Recorded && w.Kind == ScaleKind.Charge))
            {
                var pick = picks.LastOrDefault(p => p.Ticks < w.Readings[0].Ticks);
                current = pick?.Material;
                Assert.Equal(w.Material, current);
            }

            Assert.Contains(run.Weighings, w => w.Recorded && w.Kind == ScaleKind.Charge && !picks.Any(p => p.For == w));
        }
    }

    [Fact]
    public void The_recording_reads_meters_every_10_s_and_scales_only_while_loaded()
    {
        var records = S.Result.Records;
        Assert.True(records.Zip(records.Skip(1)).All(p => p.First.Ticks <= p.Second.Ticks));
        long start = S.Options.Start.UtcTicks, end = S.Options.End.UtcTicks;
        Assert.Equal(start, records[0].Ticks);
        Assert.Equal(end, records[^1].Ticks);
        foreach (var tag in records.OfType<TagRecord>().GroupBy(t => t.Tag))
        {
            var ticks = tag.Select(t => t.Ticks).ToList();
            Assert.Equal(Enumerable.Range(0, 2881).Select(k => start + (k * 10 * TimeSpan.TicksPerSecond)), ticks);
            Assert.True(tag.Zip(tag.Skip(1)).All(p => p.Second.Value >= p.First.Value), tag.Key + " never runs backwards");
        }

        Assert.Equal(["Aux.PowerTotal", "F1.GasTotal", "F1.PowerTotal", "F2.GasTotal", "F2.PowerTotal"],
            records.OfType<TagRecord>().Select(t => t.Tag).Distinct().Order());
        Assert.Equal(["F1-charge", "F1-dross", "F1-tap", "F2-charge", "F2-dross", "F2-tap"],
            records.OfType<ScaleRecord>().Select(t => t.Scale).Distinct().Order());
        int zeros = records.OfType<ScaleRecord>().Count(s => s.GrossKg == 0);
        Assert.Equal(4 * S.Result.Truth.Tickets.Count, zeros);
        Assert.True(S.RecordingBytes.Length < 5_000_000, $"the recording is {S.RecordingBytes.Length} bytes");
    }

    [Fact]
    public void Plant_like_spike_limits_accept_every_reading()
    {
        // config/demo.json replays the shipped sample with MaxRatePerHour 3000 Nm3/h (gas),
        // 5000 kWh/h (power) and 2000 kWh/h (aux): 2000 for every meter is stricter than all three.
        var replay = ReplayOutput.Run(S.Options, S.RecordingBytes, withSiteMeter: true, maxRatePerHour: 2000);
        Assert.Empty(replay.Log);
        var site = replay.Latest("/kpi/shift").Single(s => s.S("entity") == "site");
        var truth = S.Result.Truth.Shifts.Single(s => s.Entity == "site");
        Expect.Relative(truth.WithSiteMeters.GasNm3, site.D("energy", "gasNm3"), 1e-6, "site gas");
        Expect.Relative(truth.WithSiteMeters.ElectricityKWh, site.D("energy", "electricityKWh"), 1e-6, "site kWh");
    }

    [Fact]
    public void Options_that_describe_no_scenario_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PlantScenario(new ScenarioOptions { Furnaces = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PlantScenario(new ScenarioOptions { Duration = TimeSpan.FromSeconds(15) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PlantScenario(new ScenarioOptions { Start = ScenarioOptions.DefaultStart.AddMilliseconds(5) }));
    }
}
