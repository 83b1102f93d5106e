using System.Text.Json;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Simulators.Tests;

/// <summary>The key property: replaying the generated recording through the engine reproduces the ground truth.</summary>
public class ReplayTests
{
    private const double EnergyTolerance = 1e-6;
    private const double RatioTolerance = 1e-9;

    private static SampleShift S => SampleShift.Instance;

    [Fact]
    public void The_replay_logs_nothing_rejected_and_raises_no_counter_flags()
    {
        Assert.Empty(S.OwnMeters.Log);
        foreach (var kpi in S.OwnMeters.Messages.Where(m => m.Topic.Contains("/kpi/", StringComparison.Ordinal)).Select(m => m.Payload))
        {
            var flags = kpi.GetProperty("quality").GetProperty("flags").EnumerateArray().Select(f => f.GetString()).ToList();
            Assert.DoesNotContain("counter-reset", flags);
            Assert.DoesNotContain("counter-spike-rejected", flags);
            Assert.DoesNotContain("counter-rebased", flags);
            Assert.DoesNotContain("corrected", flags);
        }
    }

    [Fact]
    public void Every_load_makes_exactly_the_ticket_of_the_truth()
    {
        var truth = S.TruthOf("ticket").ToList();
        var engine = S.OwnMeters.All("/ticket");
        Assert.Equal(46, truth.Count);
        Assert.Equal(truth.Count, engine.Count);
        var byKey = engine.ToDictionary(t => (t.S("scale"), t.S("stableAt")));
        foreach (var t in truth)
        {
            string what = $"ticket {t.S("scale")} at {t.S("stableAt")}";
            Assert.True(byKey.TryGetValue((t.S("scale"), t.S("stableAt")), out var e), what + ": the engine made no ticket there");
            Assert.Equal(t.S("furnace"), e.S("furnace"));
            Assert.Equal(t.S("role"), e.S("role"));
            Assert.Equal(t.GetProperty("material").ToString(), e.GetProperty("material").ToString());
            Assert.Equal(t.GetProperty("kg").GetDouble(), e.GetProperty("grossKg").GetDouble());
            Assert.Equal(t.GetProperty("kg").GetDouble(), e.GetProperty("netKg").GetDouble());
            Assert.Equal(t.S("heatId"), e.S("heatId"));
        }
    }

    [Fact]
    public void Every_closed_heat_matches_the_truth_with_own_meters_only()
    {
        var truth = S.TruthOf("heat").Where(h => h.GetProperty("close").ValueKind != JsonValueKind.Null).ToList();
        var engine = S.OwnMeters.Latest("/kpi/heat");
        Assert.Equal(6, truth.Count);
        Assert.Equal(truth.Select(h => h.S("heatId")).Order(), engine.Select(h => h.GetProperty("window").S("heatId")).Order());
        foreach (var t in truth)
        {
            var e = engine.Single(h => h.GetProperty("window").S("heatId") == t.S("heatId"));
            AssertHeat(t, e, "ownMeters");
        }
    }

    [Fact]
    public void Every_closed_heat_matches_the_truth_with_the_aux_meter_allocated()
    {
        var truth = S.TruthOf("heat").Where(h => h.GetProperty("close").ValueKind != JsonValueKind.Null).ToList();
        var engine = S.WithSiteMeter.Latest("/kpi/heat");
        Assert.Equal(truth.Count, engine.Count);
        foreach (var t in truth)
        {
            var e = engine.Single(h => h.GetProperty("window").S("heatId") == t.S("heatId"));
            AssertHeat(t, e, "withSiteMeters");
        }
    }

    [Theory]
    [InlineData("F1")]
    [InlineData("F2")]
    [InlineData("site")]
    public void The_shift_matches_the_truth_with_own_meters_only(string entity) =>
        AssertShift(S.OwnMeters, entity, "ownMeters");

    [Theory]
    [InlineData("F1")]
    [InlineData("F2")]
    [InlineData("site")]
    public void The_shift_matches_the_truth_with_the_aux_meter_as_a_site_meter(string entity) =>
        AssertShift(S.WithSiteMeter, entity, "withSiteMeters");

    [Fact]
    public void The_site_meter_total_over_the_shift_equals_the_truth()
    {
        var truthSite = S.TruthOf("shift").Single(s => s.S("entity") == "site");
        double aux = truthSite.D("withSiteMeters", "auxKWh");
        Expect.Relative(S.Result.Aux.Integrate(S.Options.Start.UtcTicks, S.Options.End.UtcTicks), aux, 1e-12, "aux from the model");

        // The site meter is read: last read − first read is the whole shift's aux consumption.
        var reads = S.Result.Records.OfType<Core.Engine.TagRecord>().Where(r => r.Tag == "Aux.PowerTotal").ToList();
        Expect.Relative(aux, reads[^1].Value - reads[0].Value, EnergyTolerance, "aux from the readings");

        var own = S.OwnMeters.Latest("/kpi/shift").Single(s => s.S("entity") == "site");
        var withSite = S.WithSiteMeter.Latest("/kpi/shift").Single(s => s.S("entity") == "site");
        Expect.Relative(aux, withSite.D("energy", "electricityKWh") - own.D("energy", "electricityKWh"), EnergyTolerance, "site aux kWh in the engine");

        // Allocation adds up: the furnaces' allocated shares sum to the site meter.
        var furnaceShifts = S.WithSiteMeter.Latest("/kpi/shift").Where(s => s.S("entity") != "site").ToList();
        Expect.Relative(withSite.D("energy", "electricityKWh"), furnaceShifts.Sum(s => s.D("energy", "electricityKWh")), EnergyTolerance, "Σ furnaces vs site");
    }

    [Fact]
    public void Minute_windows_add_up_to_the_shift()
    {
        foreach (string entity in new[] { "F1", "F2", "site" })
        {
            var minutes = S.OwnMeters.Latest("/kpi/minute").Where(m => m.S("entity") == entity).ToList();
            Assert.Equal(480, minutes.Count);
            var truth = S.TruthOf("shift").Single(s => s.S("entity") == entity);
            Expect.Relative(truth.D("ownMeters", "gasNm3"), minutes.Sum(m => m.D("energy", "gasNm3")), EnergyTolerance, entity + " Σ minute gas");
            Expect.Relative(truth.D("ownMeters", "electricityKWh"), minutes.Sum(m => m.D("energy", "electricityKWh")), EnergyTolerance, entity + " Σ minute kWh");
            Assert.Equal(truth.D("metal", "chargedKg"), minutes.Sum(m => m.D("metal", "chargedKg")));
            Assert.Equal(truth.D("metal", "tappedKg"), minutes.Sum(m => m.D("metal", "tappedKg")));
        }
    }

    private static void AssertHeat(JsonElement t, JsonElement e, string energyKind)
    {
        string id = t.S("heatId");
        var window = e.GetProperty("window");
        Assert.Equal(t.S("open"), window.S("start"));
        Assert.Equal(t.S("close"), window.S("end"));
        Assert.True(e.GetProperty("quality").GetProperty("complete").GetBoolean(), id + " complete");
        Assert.Equal(0, e.GetProperty("rev").GetInt32());
        AssertFigures(t, e, energyKind, id);
        AssertRecycled(t, e, id);
    }

    private static void AssertShift(ReplayOutput replay, string entity, string energyKind)
    {
        var truth = S.TruthOf("shift").Single(s => s.S("entity") == entity);
        var e = replay.Latest("/kpi/shift").Single(s => s.S("entity") == entity && s.GetProperty("window").S("start") == truth.S("start"));
        Assert.Equal(truth.S("end"), e.GetProperty("window").S("end"));
        Assert.True(e.GetProperty("quality").GetProperty("complete").GetBoolean(), entity + " shift complete");
        AssertFigures(truth, e, energyKind, entity + " shift");
    }

    private static void AssertFigures(JsonElement t, JsonElement e, string energyKind, string what)
    {
        var metal = e.GetProperty("metal");
        var tm = t.GetProperty("metal");
        // Masses are exact: sums of whole-kilogram settled weights.
        Assert.Equal(tm.GetProperty("chargedKg").GetDouble(), metal.GetProperty("chargedKg").GetDouble());
        Assert.Equal(tm.GetProperty("tappedKg").GetDouble(), metal.GetProperty("tappedKg").GetDouble());
        Assert.Equal(tm.GetProperty("drossKg").GetDouble(), metal.GetProperty("drossKg").GetDouble());
        foreach (string ratio in new[] { "meltYield", "meltLossPct", "drossRatio" })
        {
            Expect.NullableRelative(tm.GetProperty(ratio), metal.GetProperty(ratio), RatioTolerance, $"{what} {ratio}");
        }

        var te = t.GetProperty(energyKind);
        var energy = e.GetProperty("energy");
        var emissions = e.GetProperty("emissions");
        Expect.Relative(te.GetProperty("gasNm3").GetDouble(), energy.GetProperty("gasNm3").GetDouble(), EnergyTolerance, what + " gasNm3");
        Expect.Relative(te.GetProperty("electricityKWh").GetDouble(), energy.GetProperty("electricityKWh").GetDouble(), EnergyTolerance, what + " electricityKWh");
        Expect.Relative(te.GetProperty("energyGJ").GetDouble(), energy.GetProperty("energyGJ").GetDouble(), EnergyTolerance, what + " energyGJ");
        Expect.Relative(te.GetProperty("scope1TCO2e").GetDouble(), emissions.GetProperty("scope1TCO2e").GetDouble(), EnergyTolerance, what + " scope1");
        Expect.Relative(te.GetProperty("scope2LocationTCO2e").GetDouble(), emissions.GetProperty("scope2LocationTCO2e").GetDouble(), EnergyTolerance, what + " scope2 location");
        // No green share: market-based equals location-based.
        Expect.Relative(te.GetProperty("scope2LocationTCO2e").GetDouble(), emissions.GetProperty("scope2MarketTCO2e").GetDouble(), EnergyTolerance, what + " scope2 market");
        Expect.NullableRelative(te.GetProperty("intensityTCO2ePerT"), emissions.GetProperty("intensityTCO2ePerT"), EnergyTolerance, what + " intensity");
    }

    /// <summary>CMI recycled content from the truth's charge mix and the config's yield factors, computed here.</summary>
    private static void AssertRecycled(JsonElement t, JsonElement e, string what)
    {
        var factors = new Dictionary<string, double>
        {
            [nameof(Material.Primary)] = 0.99, [nameof(Material.PreConsumer)] = 0.97, [nameof(Material.PostConsumerUbc)] = 0.90,
            [nameof(Material.PostConsumerOther)] = 0.92, [nameof(Material.Alloying)] = 1.0, [nameof(Material.Internal)] = 1.0,
        };
        double an = 0, pre = 0, post = 0;
        foreach (var p in t.GetProperty("metal").GetProperty("chargedByMaterialKg").EnumerateObject())
        {
            double net = p.Value.GetDouble() * factors[p.Name];
            if (p.Name == nameof(Material.Internal))
            {
                continue;
            }

            an += net;
            pre += p.Name == nameof(Material.PreConsumer) ? net : 0;
            post += p.Name is nameof(Material.PostConsumerUbc) or nameof(Material.PostConsumerOther) ? net : 0;
        }

        var recycled = e.GetProperty("recycled");
        Assert.Equal(100 * (pre + post) / an, recycled.GetProperty("recycledPct").GetDouble(), 1e-9);
        Assert.Equal(100 * post / an, recycled.GetProperty("postConsumerPct").GetDouble(), 1e-9);
        Assert.Equal(100 * pre / an, recycled.GetProperty("preConsumerPct").GetDouble(), 1e-9);
    }
}
