using System.Text.Json;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using static EdgeCollector.Core.Tests.TestPlant;

namespace EdgeCollector.Core.Tests;

/// <summary>Invariants over random plant streams (seeded, so a failure names its seed).</summary>
public class PropertyTests
{
    private static EdgeConfig PlantConfig(bool siteMeter) => Config(
        [Furnace("F1"), Furnace("F2")],
        siteMeters: siteMeter ? [new MeterConfig { Tag = "Aux.Power", Kind = MeterKind.Electricity }] : null,
        holdSeconds: 300);

    /// <summary>A random but physically sensible stream: meters read every 1–40 s, loads on scales, picks, some Bad samples.</summary>
    internal static (List<InputRecord> Records, Dictionary<string, double> MeterTotals) RandomStream(int seed, bool siteMeter, double hours = 3)
    {
        var rnd = new Random(seed);
        var records = new List<InputRecord>();
        var totals = new Dictionary<string, double>();
        long start = T("2026-11-21T07:30:00Z") + rnd.Next(0, 3600) * TimeSpan.TicksPerSecond;
        long end = start + (long)(hours * TimeSpan.TicksPerHour);
        string[] meters = siteMeter ? ["F1.Gas", "F1.Power", "F2.Gas", "F2.Power", "Aux.Power"] : ["F1.Gas", "F1.Power", "F2.Gas", "F2.Power"];
        foreach (var meter in meters)
        {
            double value = rnd.Next(0, 100000);
            double? first = null;
            for (long t = start + rnd.Next(0, 20) * TimeSpan.TicksPerSecond; t < end; t += rnd.Next(1, 40) * TimeSpan.TicksPerSecond)
            {
                if (rnd.NextDouble() < 0.02)
                {
                    records.Add(new TagRecord(t, meter, -1, SampleQuality.Bad));
                    continue;
                }

                value += rnd.NextDouble() < 0.3 ? 0 : rnd.NextDouble() * 5;
                first ??= value;   // the engine's baseline: the first reading that is not Bad
                records.Add(new TagRecord(t, meter, value, rnd.NextDouble() < 0.05 ? SampleQuality.Uncertain : SampleQuality.Good));
            }

            // The last reading of every meter is at the same instant, 16:00Z (a shift and local day
            // boundary in Asia/Shanghai), so every minute, shift and day window before it is final.
            value += 1;
            records.Add(new TagRecord(end, meter, value));
            records.Add(new TagRecord(T("2026-11-21T16:00:00Z"), meter, value));
            totals[meter] = value - first!.Value;
        }

        foreach (var f in new[] { "F1", "F2" })
        {
            for (long t = start + rnd.Next(10, 300) * TimeSpan.TicksPerSecond; t < end - 600 * TimeSpan.TicksPerSecond; t += rnd.Next(120, 900) * TimeSpan.TicksPerSecond)
            {
                string role = rnd.Next(4) switch { 0 => "tap", 1 => "dross", _ => "charge" };
                if (role == "charge" && rnd.NextDouble() < 0.5)
                {
                    records.Add(new MaterialPickRecord(t - TimeSpan.TicksPerSecond, f, (Material)rnd.Next(0, 6)));
                }

                double kg = Math.Round(rnd.NextDouble() * 9000 + 100);
                for (int s = 0; s < 4; s++)
                {
                    records.Add(new ScaleRecord(t + s * TimeSpan.TicksPerSecond, $"{f}-{role}", kg, s == 0 ? true : false));
                }

                records.Add(new ScaleRecord(t + 4 * TimeSpan.TicksPerSecond, $"{f}-{role}", 0, false));
            }
        }

        return (records.OrderBy(r => r.Ticks).ToList(), totals);
    }

    /// <summary>The latest revision of every window, by id.</summary>
    private static Dictionary<string, JsonElement> Latest(IEnumerable<OutgoingMessage> messages)
    {
        var latest = new Dictionary<string, JsonElement>();
        foreach (var m in messages.Where(m => m.Topic.Contains("/kpi/", StringComparison.Ordinal)))
        {
            latest[m.Id] = JsonDocument.Parse(m.Payload).RootElement;
        }

        return latest;
    }

    private static List<OutgoingMessage> Replay(EdgeConfig config, IEnumerable<InputRecord> records)
    {
        var engine = new KpiEngine(new PlantModel(config));
        var output = new List<OutgoingMessage>();
        foreach (var r in records)
        {
            engine.Apply(r);
            output.AddRange(engine.TakeMessages());
        }

        engine.FlushAtEnd();
        output.AddRange(engine.TakeMessages());
        return output;
    }

    private static readonly string[] Additive =
        ["metal.chargedKg", "metal.tappedKg", "metal.drossKg", "energy.gasNm3", "energy.electricityKWh", "energy.energyGJ", "emissions.scope1TCO2e"];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Site_windows_equal_the_sum_of_furnace_windows(bool siteMeter)
    {
        for (int seed = 1; seed <= 12; seed++)
        {
            var (records, _) = RandomStream(seed, siteMeter);
            var latest = Latest(Replay(PlantConfig(siteMeter), records)).Values.ToList();
            var byWindow = latest.Where(p => p.GetProperty("window").GetProperty("kind").GetString() != "heat")
                .GroupBy(p => (p.GetProperty("window").GetProperty("kind").GetString(), p.GetProperty("window").GetProperty("start").GetString()));
            int checkedWindows = 0;
            foreach (var group in byWindow)
            {
                var site = group.Single(p => p.GetProperty("entity").GetString() == "site");
                var furnaces = group.Where(p => p.GetProperty("entity").GetString() != "site").ToList();
                Assert.Equal(2, furnaces.Count);
                foreach (var field in Additive)
                {
                    double sum = furnaces.Sum(f => f.Num(field));
                    Assert.True(Math.Abs(sum - site.Num(field)) <= 1e-9 * Math.Max(1, Math.Abs(sum)), $"seed {seed} {group.Key} {field}: furnaces {sum} site {site.Num(field)}");
                }

                checkedWindows++;
            }

            Assert.True(checkedWindows > 100, $"seed {seed}: only {checkedWindows} windows");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Energy_is_conserved_across_minute_and_shift_boundaries(bool siteMeter)
    {
        for (int seed = 20; seed <= 30; seed++)
        {
            var (records, totals) = RandomStream(seed, siteMeter);
            var latest = Latest(Replay(PlantConfig(siteMeter), records)).Values.Where(p => p.GetProperty("entity").GetString() == "site").ToList();
            double kWh = totals["F1.Power"] + totals["F2.Power"] + (siteMeter ? totals["Aux.Power"] : 0);
            double gas = totals["F1.Gas"] + totals["F2.Gas"];
            foreach (var kind in new[] { "minute", "shift" })
            {
                var windows = latest.Where(p => p.GetProperty("window").GetProperty("kind").GetString() == kind).ToList();
                Assert.Equal(kWh, windows.Sum(w => w.Num("energy.electricityKWh")), 1e-6);
                Assert.Equal(gas, windows.Sum(w => w.Num("energy.gasNm3")), 1e-6);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Splitting_a_recording_and_replaying_both_halves_with_carried_state_gives_the_same_output(bool siteMeter)
    {
        var config = PlantConfig(siteMeter);
        for (int seed = 40; seed <= 45; seed++)
        {
            var (records, _) = RandomStream(seed, siteMeter, hours: 2);
            var whole = Replay(config, records);
            var rnd = new Random(seed);
            int cut = rnd.Next(1, records.Count - 1);

            var first = new KpiEngine(new PlantModel(config));
            var output = new List<OutgoingMessage>();
            foreach (var r in records.Take(cut))
            {
                first.Apply(r);
                output.AddRange(first.TakeMessages());
            }

            var saved = first.SaveState();
            var second = new KpiEngine(new PlantModel(config), KpiEngine.LoadState(saved));
            foreach (var r in records.Skip(cut))
            {
                second.Apply(r);
                output.AddRange(second.TakeMessages());
            }

            second.FlushAtEnd();
            output.AddRange(second.TakeMessages());
            Assert.Equal(whole.Count, output.Count);
            for (int i = 0; i < whole.Count; i++)
            {
                Assert.True(whole[i].Payload.AsSpan().SequenceEqual(output[i].Payload), $"seed {seed} cut {cut}: message {i} differs");
            }
        }
    }

    [Fact]
    public void Heats_and_time_outside_heats_add_up_to_the_furnace_total()
    {
        var (records, totals) = RandomStream(77, siteMeter: false, hours: 4);
        var latest = Latest(Replay(PlantConfig(false), records)).Values.Where(p => p.GetProperty("entity").GetString() == "F1").ToList();
        var heats = latest.Where(p => p.GetProperty("window").GetProperty("kind").GetString() == "heat").ToList();
        Assert.NotEmpty(heats);
        // Every heat's energy is at most what the furnace used in the minutes it covers, and the sum of heats ≤ total.
        Assert.True(heats.Sum(h => h.Num("energy.electricityKWh")) <= totals["F1.Power"] + 1e-6);
        double minuteSum = latest.Where(p => p.GetProperty("window").GetProperty("kind").GetString() == "minute").Sum(m => m.Num("energy.electricityKWh"));
        Assert.Equal(totals["F1.Power"], minuteSum, 1e-6);
    }
}
