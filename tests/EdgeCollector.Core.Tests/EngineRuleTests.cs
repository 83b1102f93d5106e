using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using static EdgeCollector.Core.Tests.TestPlant;

namespace EdgeCollector.Core.Tests;

public class EngineRuleTests
{
    private static readonly long H0 = T("2026-11-21T08:00:00Z");

    /// <summary>contracts.md example heat: 25140 kg charged, 24310 tapped, 1985.2 Nm3, 2390 kWh.</summary>
    [Fact]
    public void Contract_example_heat_gives_the_documented_figures()
    {
        var h = new Harness(Config());
        h.Sample("F1.Gas", H0, 1000).Sample("F1.Power", H0, 500);
        h.Load("F1-charge", At(H0, -2), 8000);        // stable at 08:00:00: opens the heat
        h.Load("F1-charge", At(H0, 600), 9000);
        h.Load("F1-charge", At(H0, 1200), 8140);
        h.Sample("F1.Gas", At(H0, 3600), 2000).Sample("F1.Power", At(H0, 3600), 1700);
        h.Load("F1-dross", At(H0, 6000), 590);
        h.Load("F1-tap", At(H0, 6600), 24310);        // arms the close
        h.Load("F1-charge", At(H0, 7198), 7000);      // stable at 10:00:00: closes the heat, opens the next
        h.Sample("F1.Gas", At(H0, 7200), 2985.2).Sample("F1.Power", At(H0, 7200), 2890);

        var heat = h.Single("/F1/kpi/heat");
        Assert.Equal("F1-2026112116-001", heat.GetProperty("window").GetProperty("heatId").GetString());
        Assert.Equal("2026-11-21T08:00:00Z", heat.GetProperty("window").GetProperty("start").GetString());
        Assert.Equal("2026-11-21T10:00:00Z", heat.GetProperty("window").GetProperty("end").GetString());
        Assert.Equal(25140, heat.Num("metal.chargedKg"));
        Assert.Equal(24310, heat.Num("metal.tappedKg"));
        Assert.Equal(590, heat.Num("metal.drossKg"));
        Assert.Equal(1985.2, heat.Num("energy.gasNm3"), 1e-9);
        Assert.Equal(2390, heat.Num("energy.electricityKWh"), 1e-9);
        Assert.Equal(1985.2 * 0.038931 + 2390 * 0.0036, heat.Num("energy.energyGJ"), 1e-9);
        Assert.Equal(4.292, heat.Num("emissions.scope1TCO2e"), 5e-4);
        Assert.Equal(1.282, heat.Num("emissions.scope2LocationTCO2e"), 5e-4);
        Assert.Equal(1.282474, heat.Num("emissions.scope2LocationTCO2e"), 1e-9);
        Assert.Equal(0.2293, heat.Num("emissions.intensityTCO2ePerT"), 5e-5);
        Assert.Equal(0.9670, heat.Num("metal.meltYield"), 5e-5);
        Assert.Equal(3.30, heat.Num("metal.meltLossPct"), 5e-3);
        Assert.Equal(590.0 / 25140, heat.Num("metal.drossRatio"), 1e-12);
        Assert.True(heat.GetProperty("quality").GetProperty("complete").GetBoolean());
        Assert.Equal(["heel-uncorrected"], heat.Flags());
        Assert.True(heat.IsNull("target"));
        Assert.Equal("cn-default", heat.GetProperty("factors").GetProperty("set").GetString());
        Assert.Equal(0, heat.Num("rev"));
    }

    [Fact]
    public void Tickets_are_published_with_their_heat_material_and_id()
    {
        var h = new Harness(Config());
        h.Pick(At(H0, -10), "F1", Material.PostConsumerUbc);
        h.Load("F1-charge", At(H0, -2), 8000);
        var t = h.Single("/F1/ticket");
        Assert.Equal(MessageIds.Sha256Hex("wenxi|F1-charge|ticket|2026-11-21T08:00:00Z"), t.GetProperty("id").GetString());
        Assert.Equal("edgecollector.ticket/1", t.GetProperty("schema").GetString());
        Assert.Equal("PostConsumerUbc", t.GetProperty("material").GetString());
        Assert.Equal("Charge", t.GetProperty("role").GetString());
        Assert.Equal(8000, t.Num("grossKg"));
        Assert.Equal(8000, t.Num("netKg"));
        Assert.Equal("2026-11-21T08:00:00Z", t.GetProperty("stableAt").GetString());
        Assert.Equal("F1-2026112116-001", t.GetProperty("heatId").GetString());
        Assert.Equal("edgecollector/v1/wenxi/F1/ticket", h.Messages.First(m => m.Topic.EndsWith("ticket", StringComparison.Ordinal)).Topic);
    }

    [Fact]
    public void A_ten_minute_gap_is_spread_over_minutes_and_split_at_the_heat_boundary()
    {
        var gasOnly = Furnace("F1", meters: [new MeterConfig { Tag = "F1.Gas", Kind = MeterKind.Fuel, Fuel = "NaturalGas" }]);
        var h = new Harness(Config([gasOnly]));
        h.Sample("F1.Gas", At(H0, 30), 0);                 // baseline 08:00:30
        h.Load("F1-charge", At(H0, 313), 5000);            // stable 08:05:15: heat opens
        h.Sample("F1.Gas", At(H0, 630), 600);              // 10 minutes later: 60 Nm3/min over [08:00:30, 08:10:30)
        h.Load("F1-tap", At(H0, 700), 4800);
        h.Load("F1-charge", At(H0, 898), 5000);            // stable 08:15:00: closes the heat
        h.Sample("F1.Gas", At(H0, 900), 600);

        Assert.Equal(30, h.Window("F1", "minute", "2026-11-21T08:00:00Z").Num("energy.gasNm3"), 1e-9);
        Assert.Equal(60, h.Window("F1", "minute", "2026-11-21T08:05:00Z").Num("energy.gasNm3"), 1e-9);
        Assert.Equal(30, h.Window("F1", "minute", "2026-11-21T08:10:00Z").Num("energy.gasNm3"), 1e-9);
        Assert.Equal(0, h.Window("F1", "minute", "2026-11-21T08:11:00Z").Num("energy.gasNm3"), 1e-9);
        var heat = h.Single("/F1/kpi/heat");
        Assert.Equal(5.25 * 60, heat.Num("energy.gasNm3"), 1e-9);  // [08:05:15, 08:10:30)
        // Minute windows are incomplete until the totaliser had a reading at or before their start.
        Assert.False(h.Window("F1", "minute", "2026-11-21T08:00:00Z").GetProperty("quality").GetProperty("complete").GetBoolean());
        Assert.True(h.Window("F1", "minute", "2026-11-21T08:01:00Z").GetProperty("quality").GetProperty("complete").GetBoolean());
    }

    [Fact]
    public void Minute_windows_carry_no_ratios_and_exist_when_nothing_happened()
    {
        var h = new Harness(Config());
        h.Sample("F1.Gas", H0, 0).Sample("F1.Power", H0, 0);
        h.Sample("F1.Gas", At(H0, 180), 0).Sample("F1.Power", At(H0, 180), 0);
        var minutes = h.Payloads("/F1/kpi/minute").ToList();
        Assert.Equal(3, minutes.Count);
        Assert.Equal(3, h.Payloads("/site/kpi/minute").Count());
        foreach (var m in minutes)
        {
            Assert.True(m.IsNull("metal.meltYield"));
            Assert.True(m.IsNull("emissions.intensityTCO2ePerT"));
            Assert.True(m.IsNull("recycled.recycledPct"));
            Assert.Equal(0, m.Num("metal.chargedKg"));
            Assert.True(m.IsNull("target"));
        }
    }

    [Fact]
    public void Two_furnaces_share_a_site_meter_in_proportion_to_their_energy_and_the_site_is_their_sum()
    {
        var f1 = Furnace("F1", meters: [new MeterConfig { Tag = "F1.Gas", Kind = MeterKind.Fuel, Fuel = "NaturalGas" }]);
        var f2 = Furnace("F2", meters: [new MeterConfig { Tag = "F2.Power", Kind = MeterKind.Electricity }]);
        var h = new Harness(Config([f1, f2], siteMeters: [new MeterConfig { Tag = "Aux.Power", Kind = MeterKind.Electricity }]));
        h.Sample("F1.Gas", H0, 0).Sample("F2.Power", H0, 0).Sample("Aux.Power", H0, 0);
        // Minute 08:00: F1 burns 100 Nm3 (3.8931 GJ), F2 uses 1000 kWh (3.6 GJ); aux 74.931 kWh.
        h.Sample("F1.Gas", At(H0, 60), 100).Sample("F2.Power", At(H0, 60), 1000).Sample("Aux.Power", At(H0, 60), 74.931);
        // Minute 08:01: nobody fires; aux 10 kWh is split equally.
        h.Sample("F1.Gas", At(H0, 120), 100).Sample("F2.Power", At(H0, 120), 1000).Sample("Aux.Power", At(H0, 120), 84.931);

        double gj1 = 100 * 0.038931, gj2 = 3.6;
        var m1 = h.Window("F1", "minute", "2026-11-21T08:00:00Z");
        var m2 = h.Window("F2", "minute", "2026-11-21T08:00:00Z");
        var site = h.Window("site", "minute", "2026-11-21T08:00:00Z");
        Assert.Equal(74.931 * gj1 / (gj1 + gj2), m1.Num("energy.electricityKWh"), 1e-9);
        Assert.Equal(1000 + 74.931 * gj2 / (gj1 + gj2), m2.Num("energy.electricityKWh"), 1e-9);
        Assert.Equal(1074.931, site.Num("energy.electricityKWh"), 1e-9);
        Assert.Equal(m1.Num("energy.electricityKWh") + m2.Num("energy.electricityKWh"), site.Num("energy.electricityKWh"), 1e-9);
        Assert.Equal(m1.Num("energy.energyGJ") + m2.Num("energy.energyGJ"), site.Num("energy.energyGJ"), 1e-9);
        Assert.Equal(5, h.Window("F1", "minute", "2026-11-21T08:01:00Z").Num("energy.electricityKWh"), 1e-9);
        Assert.Equal(5, h.Window("F2", "minute", "2026-11-21T08:01:00Z").Num("energy.electricityKWh"), 1e-9);
    }

    [Fact]
    public void Market_based_scope2_uses_the_green_share_and_the_residual_factor()
    {
        var calc = new PlantModel(Config(green: 0.3, residual: 0.5856)).Calculator;
        var f = new Figures { ElectricityKWh = 1000 };
        var k = calc.Compute(f, WindowKind.Heat);
        Assert.Equal(0.5366, k.Scope2LocationTCO2e, 1e-12);
        Assert.Equal(0.7 * 0.5856, k.Scope2MarketTCO2e, 1e-12);
        var fallback = new PlantModel(Config(green: 0.3, residual: null)).Calculator.Compute(f, WindowKind.Heat);
        Assert.Equal(0.7 * 0.5366, fallback.Scope2MarketTCO2e, 1e-12);
    }

    [Fact]
    public void Recycled_content_version_2_equals_version_3_on_a_mixed_charge_and_internal_scrap_is_excluded()
    {
        var h = new Harness(Config());
        long t = H0;
        void Charge(Material m, double kg)
        {
            h.Pick(t, "F1", m);
            h.Load("F1-charge", At(t, 1), kg);
            t = At(t, 60);
        }

        Charge(Material.PostConsumerUbc, 1000);
        Charge(Material.PreConsumer, 2000);
        Charge(Material.Internal, 500);
        Charge(Material.Primary, 1000);
        Charge(Material.Alloying, 100);
        h.Load("F1-tap", t, 4300);
        h.Load("F1-charge", At(t, 60), 10);
        h.Sample("F1.Gas", At(t, 120), 0).Sample("F1.Power", At(t, 120), 0);
        var heat = h.Single("/F1/kpi/heat");
        double an = 900 + 1940 + 990 + 100;
        Assert.Equal(100 * (an - 990 - 100) / an, heat.Num("recycled.recycledPct"), 1e-9);
        Assert.Equal(100 * (1940 + 900) / an, heat.Num("recycled.recycledPct"), 1e-9);
        Assert.Equal(100 * 900 / an, heat.Num("recycled.postConsumerPct"), 1e-9);
        Assert.Equal(100 * 1940 / an, heat.Num("recycled.preConsumerPct"), 1e-9);
        Assert.Equal(4600, heat.Num("metal.chargedKg"));
        Assert.Equal("Internal", h.Payloads("/F1/ticket").ElementAt(2).GetProperty("material").GetString());
    }

    [Fact]
    public void Unknown_material_counts_as_primary_and_is_published_as_null()
    {
        var h = new Harness(Config([Furnace("F1", defaultMaterial: null)]));
        h.Load("F1-charge", H0, 1000);
        Assert.True(h.Single("/F1/ticket").IsNull("material"));
        var f = new Figures();
        f.AddTicket(ScaleRole.Charge, Figures.UnknownMaterial, 1000, 990, 1);
        Assert.Equal(0, KpiCalculator.Recycled(f).Recycled!.Value, 1e-12);
    }

    [Fact]
    public void A_void_removes_the_ticket_and_republishes_the_heat_with_rev_1()
    {
        var h = new Harness(Config());
        h.Sample("F1.Gas", H0, 0).Sample("F1.Power", H0, 0);
        h.Load("F1-charge", At(H0, -2), 10000);
        h.Load("F1-charge", At(H0, 60), 2000);
        h.Load("F1-tap", At(H0, 600), 11000);
        h.Load("F1-charge", At(H0, 1198), 5000);
        h.Sample("F1.Gas", At(H0, 1200), 100).Sample("F1.Power", At(H0, 1200), 100);
        var first = h.Single("/F1/kpi/heat");
        Assert.Equal(12000, first.Num("metal.chargedKg"));
        string wrong = h.Payloads("/F1/ticket").ElementAt(1).GetProperty("id").GetString()!;

        h.Void(At(H0, 1300), wrong, "wrong furnace");

        var heats = h.Payloads("/F1/kpi/heat").ToList();
        Assert.Equal(2, heats.Count);
        var corrected = heats[1];
        Assert.Equal(first.GetProperty("id").GetString(), corrected.GetProperty("id").GetString());
        Assert.Equal(1, corrected.Num("rev"));
        Assert.Contains("corrected", corrected.Flags());
        Assert.Equal(10000, corrected.Num("metal.chargedKg"));
        Assert.Equal(100 * (1 - 11000.0 / 10000), corrected.Num("metal.meltLossPct"), 1e-9);
        var voidMsg = h.Payloads("/F1/ticket").Last();
        Assert.Equal(wrong, voidMsg.GetProperty("replaces").GetString());
        Assert.Equal("wrong furnace", voidMsg.GetProperty("reason").GetString());
        Assert.Equal(MessageIds.Sha256Hex("wenxi|F1-charge|void|2026-11-21T08:01:02Z"), voidMsg.GetProperty("id").GetString());
        // The minute window that held the ticket was published already: it is republished too, site included.
        // (It was hold-published at 08:17 as rev 0 and final at 08:20 as rev 1, so the void makes rev 2.)
        var minuteRevs = h.Payloads("/F1/kpi/minute").Where(p => p.GetProperty("window").GetProperty("start").GetString() == "2026-11-21T08:01:00Z").ToList();
        Assert.Equal([0.0, 1.0, 2.0], minuteRevs.Select(p => p.Num("rev")));
        Assert.False(minuteRevs[0].GetProperty("quality").GetProperty("complete").GetBoolean());
        Assert.Equal(2000, minuteRevs[1].Num("metal.chargedKg"));
        var minute = minuteRevs[2];
        Assert.Equal(0, minute.Num("metal.chargedKg"));
        Assert.Equal(2, h.Window("site", "minute", "2026-11-21T08:01:00Z").Num("rev"));
        // A second void of the same ticket is ignored.
        int before = h.Messages.Count;
        h.Void(At(H0, 1400), wrong, "again");
        Assert.Equal(before, h.Messages.Count);
        Assert.Equal(1, h.Engine.Counters.VoidsIgnored);
    }

    [Fact]
    public void A_day_is_on_or_off_the_target_pathway_of_its_local_year()
    {
        // Local day 2026-11-21 in Asia/Shanghai = [2026-11-20T16:00Z, 2026-11-21T16:00Z).
        static System.Text.Json.JsonElement Day(double kWh)
        {
            var h = new Harness(Config([Furnace("F1", meters: [new MeterConfig { Tag = "F1.Power", Kind = MeterKind.Electricity }])]));
            long d0 = T("2026-11-20T16:00:00Z");
            h.Sample("F1.Power", d0, 0);
            h.Load("F1-charge", At(d0, 3600), 10000);
            h.Load("F1-tap", At(d0, 7200), 10000);
            h.Sample("F1.Power", At(d0, 86400), kWh);
            return h.Single("/F1/kpi/day");
        }

        var on = Day(10_000);   // 5.366 t / 10 t = 0.5366 ≤ 0.77
        Assert.Equal(2026, on.Num("target.year"));
        Assert.Equal(0.77, on.Num("target.intensityTCO2ePerT"));
        Assert.True(on.GetProperty("target").GetProperty("onTrack").GetBoolean());
        Assert.Equal("2026-11-20T16:00:00Z", on.GetProperty("window").GetProperty("start").GetString());
        var off = Day(20_000);  // 1.0732 > 0.77
        Assert.False(off.GetProperty("target").GetProperty("onTrack").GetBoolean());
    }

    [Fact]
    public void Seed_entity_2023_intensity_is_reproduced_from_its_inputs()
    {
        // 6456.81 tCO2e over 7880 t (seed ASI GHG reduction plan): 0.82 tCO2e/t.
        var calc = new PlantModel(Config()).Calculator;
        double kWh = 5_000_000;                                   // 2683 t scope 2 at 0.5366
        double nm3 = (6456.81 - kWh / 1000 * 0.5366) / GasT;      // the rest from natural gas
        var f = new Figures { TappedKg = 7_880_000, ChargedKg = 8_000_000, GasNm3 = nm3, ElectricityKWh = kWh, Scope1TCO2 = KpiCalculator.Scope1(nm3, NaturalGas) };
        var k = calc.Compute(f, WindowKind.Day, localYear: 2023);
        Assert.Equal(6456.81, k.Scope1TCO2e + k.Scope2LocationTCO2e, 1e-6);
        Assert.Equal(0.82, Math.Round(k.IntensityTCO2ePerT!.Value, 2));
        Assert.Equal(6456.81 / 7880, k.IntensityTCO2ePerT!.Value, 1e-9);
        Assert.Null(k.Target);     // no 2023 target configured: target null
    }

    [Fact]
    public void Ratios_are_null_without_charge_or_tap()
    {
        var calc = new PlantModel(Config()).Calculator;
        var k = calc.Compute(new Figures { ChargedKg = 100 }, WindowKind.Heat);
        Assert.Null(k.MeltYield);
        Assert.Null(k.IntensityTCO2ePerT);
        Assert.Null(k.RecycledPct);
        var day = calc.Compute(new Figures(), WindowKind.Day, localYear: 2026);
        Assert.NotNull(day.Target);
        Assert.Null(day.Target!.OnTrack);
        Assert.Null(calc.Compute(new Figures(), WindowKind.Day, localYear: 2031).Target);
    }
}
