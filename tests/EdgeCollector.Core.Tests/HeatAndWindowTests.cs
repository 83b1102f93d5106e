using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using static EdgeCollector.Core.Tests.TestPlant;

namespace EdgeCollector.Core.Tests;

public class PlcHeatTests
{
    private static readonly long H0 = T("2026-11-21T08:00:00Z");

    private static Harness Plc(string? heel = null) => new(Config([Furnace("F1", plc: true, heel: heel,
        meters: [new MeterConfig { Tag = "F1.Power", Kind = MeterKind.Electricity }])]));

    [Fact]
    public void State_leaving_idle_opens_and_returning_to_idle_closes_a_heat_numbered_by_the_PLC()
    {
        var h = Plc();
        h.Sample("F1.State", H0, 0).Sample("F1.HeatNo", H0, 41).Sample("F1.Power", H0, 0);
        h.Sample("F1.State", At(H0, 60), 1);                          // opens heat 41
        h.Load("F1-charge", At(H0, 120), 5000);
        h.Load("F1-tap", At(H0, 600), 4900);
        h.Sample("F1.State", At(H0, 900), 0);                         // closes it
        h.Sample("F1.Power", At(H0, 960), 100);
        var heat = h.Single("/F1/kpi/heat");
        Assert.Equal("F1-2026112116-041", heat.GetProperty("window").GetProperty("heatId").GetString());
        Assert.Equal("2026-11-21T08:01:00Z", heat.GetProperty("window").GetProperty("start").GetString());
        Assert.Equal("2026-11-21T08:15:00Z", heat.GetProperty("window").GetProperty("end").GetString());
        Assert.Equal(100.0 * 14 / 16, heat.Num("energy.electricityKWh"), 1e-9);
        Assert.Equal(5000, heat.Num("metal.chargedKg"));
    }

    [Fact]
    public void A_new_heat_number_closes_the_open_heat_and_opens_the_next_even_while_idle()
    {
        var h = Plc();
        h.Sample("F1.State", H0, 0).Sample("F1.HeatNo", H0, 7).Sample("F1.Power", H0, 0);
        h.Sample("F1.HeatNo", At(H0, 60), 8);                         // opens heat 8 while idle
        h.Sample("F1.HeatNo", At(H0, 120), 9);                        // closes 8, opens 9
        h.Sample("F1.Power", At(H0, 180), 30);
        var heat = h.Single("/F1/kpi/heat");
        Assert.Equal("F1-2026112116-008", heat.GetProperty("window").GetProperty("heatId").GetString());
        Assert.Equal(10, heat.Num("energy.electricityKWh"), 1e-9);
    }

    [Fact]
    public void The_first_readings_only_set_baselines()
    {
        var h = Plc();
        h.Sample("F1.State", H0, 2).Sample("F1.HeatNo", H0, 7).Sample("F1.Power", H0, 0);   // mid-heat at start: no heat
        h.Sample("F1.Power", At(H0, 600), 10);
        h.Sample("F1.State", At(H0, 601), 0);                        // returning to idle closes nothing
        h.Sample("F1.Power", At(H0, 700), 20);
        Assert.Empty(h.Payloads("/F1/kpi/heat"));
    }

    [Fact]
    public void A_charge_with_no_heat_open_is_published_at_once_with_null_heat_and_joins_the_next_heat()
    {
        var h = Plc();
        h.Sample("F1.State", H0, 0).Sample("F1.HeatNo", H0, 1).Sample("F1.Power", H0, 0);
        h.Load("F1-charge", At(H0, 10), 3000);
        h.Load("F1-tap", At(H0, 20), 100);                            // tap with no heat: no heat's
        h.Sample("F1.State", At(H0, 60), 1);
        h.Load("F1-tap", At(H0, 300), 2900);
        h.Sample("F1.State", At(H0, 400), 0);
        h.Sample("F1.Power", At(H0, 420), 1);
        var tickets = h.Payloads("/F1/ticket").ToList();
        Assert.True(tickets[0].IsNull("heatId"));
        var heat = h.Single("/F1/kpi/heat");
        Assert.Equal(3000, heat.Num("metal.chargedKg"));
        Assert.Equal(2900, heat.Num("metal.tappedKg"));
    }

    [Fact]
    public void A_running_count_numbers_heats_without_a_PLC_number_and_a_repeated_id_gets_a_suffix()
    {
        var h = new Harness(Config([Furnace("F1", meters: [new MeterConfig { Tag = "F1.Power", Kind = MeterKind.Electricity }])]));
        h.Load("F1-charge", H0, 100).Load("F1-tap", At(H0, 10), 90).Load("F1-charge", At(H0, 20), 100);
        h.Load("F1-tap", At(H0, 30), 90).Load("F1-charge", At(H0, 40), 100);
        h.Sample("F1.Power", At(H0, 50), 0);
        var ids = h.Payloads("/F1/kpi/heat").Select(p => p.GetProperty("window").GetProperty("heatId").GetString()).ToList();
        Assert.Equal(["F1-2026112116-001", "F1-2026112116-002"], ids);

        var plc = Plc();
        plc.Sample("F1.State", H0, 0).Sample("F1.HeatNo", H0, 5).Sample("F1.Power", H0, 0);
        plc.Sample("F1.State", At(H0, 10), 1).Sample("F1.State", At(H0, 20), 0);
        plc.Sample("F1.State", At(H0, 30), 1).Sample("F1.State", At(H0, 40), 0);   // same PLC number again
        plc.Sample("F1.Power", At(H0, 50), 0);
        var plcIds = plc.Payloads("/F1/kpi/heat").Select(p => p.GetProperty("window").GetProperty("heatId").GetString()).ToList();
        Assert.Equal(["F1-2026112116-005", "F1-2026112116-005.2"], plcIds);
    }

    [Fact]
    public void Heel_mass_corrects_the_yield_and_without_it_the_heat_is_flagged()
    {
        var h = Plc(heel: "F1.Heel");
        h.Sample("F1.State", H0, 0).Sample("F1.HeatNo", H0, 1).Sample("F1.Power", H0, 0).Sample("F1.Heel", H0, 2000);
        h.Sample("F1.State", At(H0, 60), 1);
        h.Load("F1-charge", At(H0, 100), 10000);
        h.Load("F1-tap", At(H0, 500), 9000);
        h.Sample("F1.Heel", At(H0, 550), 2700);
        h.Sample("F1.State", At(H0, 600), 0);
        h.Sample("F1.Power", At(H0, 660), 1);
        var heat = h.Single("/F1/kpi/heat");
        Assert.Equal((9000 + 2700 - 2000) / 10000.0, heat.Num("metal.meltYield"), 1e-12);
        Assert.Equal(9000, heat.Num("metal.tappedKg"));
        Assert.Empty(heat.Flags());
        Assert.True(heat.GetProperty("quality").GetProperty("complete").GetBoolean());
    }

    [Fact]
    public void A_load_that_never_held_stable_makes_no_ticket_but_flags_the_heat_it_fell_in()
    {
        var h = Plc();
        h.Sample("F1.State", H0, 0).Sample("F1.HeatNo", H0, 1).Sample("F1.Power", H0, 0);
        h.Sample("F1.State", At(H0, 60), 1);
        h.Load("F1-charge", At(H0, 100), 10000);
        // A dross load that is on the scale for 1 s only (StableSeconds 2): up, held 1 s, back to zero.
        h.Scale("F1-dross", At(H0, 300), 0).Scale("F1-dross", At(H0, 301), 388).Scale("F1-dross", At(H0, 302), 388)
            .Scale("F1-dross", At(H0, 303), 0);
        h.Load("F1-tap", At(H0, 500), 9000);
        h.Sample("F1.State", At(H0, 600), 0);
        h.Sample("F1.Power", At(H0, 660), 1);
        var heat = h.Single("/F1/kpi/heat");
        Assert.Equal(0, heat.Num("metal.drossKg"));
        Assert.Equal(["heel-uncorrected", "scale-load-unticketed"], heat.Flags());
        Assert.Equal(1, h.Engine.Counters.LoadsWithoutTicket);
        Assert.Equal(2, h.Engine.Counters.Tickets);
    }
}

public class PublicationTests
{
    private static readonly long H0 = T("2026-11-21T08:00:00Z");

    [Fact]
    public void A_window_not_final_when_its_hold_runs_out_is_published_incomplete_then_corrected_when_final()
    {
        var h = new Harness(Config([Furnace("F1", meters: [new MeterConfig { Tag = "F1.Power", Kind = MeterKind.Electricity }])], holdSeconds: 60));
        h.Sample("F1.Power", H0, 0);
        h.Load("F1-charge", At(H0, 30), 1000);               // records move time on; the meter is silent
        h.Load("F1-charge", At(H0, 200), 1000);              // at 08:03:20 minute 08:00 (+60 s hold) has run out
        var held = h.Window("F1", "minute", "2026-11-21T08:00:00Z");
        Assert.Equal(0, held.Num("rev"));
        Assert.False(held.GetProperty("quality").GetProperty("complete").GetBoolean());
        Assert.Equal(0, held.Num("energy.electricityKWh"));
        h.Sample("F1.Power", At(H0, 240), 40);               // the meter is back: 10 kWh per minute
        var final = h.Window("F1", "minute", "2026-11-21T08:00:00Z");
        Assert.Equal(1, final.Num("rev"));
        Assert.Equal(["corrected"], final.Flags());
        Assert.True(final.GetProperty("quality").GetProperty("complete").GetBoolean());
        Assert.Equal(10, final.Num("energy.electricityKWh"), 1e-9);
        Assert.Equal(held.GetProperty("id").GetString(), final.GetProperty("id").GetString());
        Assert.True(final.Num("seq") > held.Num("seq"));
    }

    [Fact]
    public void Replay_end_publishes_unpublished_windows_that_end_by_the_last_record_and_not_the_open_heat()
    {
        var h = new Harness(Config([Furnace("F1", meters: [new MeterConfig { Tag = "F1.Power", Kind = MeterKind.Electricity }])]));
        h.Sample("F1.Power", At(H0, 10), 0);
        h.Load("F1-charge", At(H0, 20), 1000);
        h.Scale("F1-charge", At(H0, 150), 0);                // last record 08:02:30; the meter never read again
        h.Flush();
        var minutes = h.Payloads("/F1/kpi/minute").ToList();
        Assert.Equal(["2026-11-21T08:00:00Z", "2026-11-21T08:01:00Z"], minutes.Select(m => m.GetProperty("window").GetProperty("start").GetString()));
        Assert.All(minutes, m => Assert.False(m.GetProperty("quality").GetProperty("complete").GetBoolean()));
        Assert.Empty(h.Payloads("/F1/kpi/heat"));
        Assert.Empty(h.Payloads("/kpi/shift"));
    }

    [Fact]
    public void Shift_and_day_windows_follow_the_site_time_zone()
    {
        var calendar = new SiteCalendar(TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai"), [new(8, 0), new(16, 0), new(0, 0)]);
        var (s, e) = calendar.ShiftContaining(T("2026-11-21T07:59:59Z"));       // 15:59:59 local
        Assert.Equal((T("2026-11-21T00:00:00Z"), T("2026-11-21T08:00:00Z")), (s, e));
        var night = calendar.ShiftContaining(T("2026-11-21T17:00:00Z"));          // 01:00 local on the 22nd
        Assert.Equal((T("2026-11-21T16:00:00Z"), T("2026-11-22T00:00:00Z")), night);
        Assert.Equal((T("2026-11-20T16:00:00Z"), T("2026-11-21T16:00:00Z")), calendar.DayContaining(T("2026-11-21T08:00:00Z")));
        var berlin = new SiteCalendar(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"), [new(6, 0)]);
        var dst = berlin.DayContaining(T("2026-03-29T12:00:00Z"));               // spring forward: 23 h
        Assert.Equal(TimeSpan.FromHours(23).Ticks, dst.End - dst.Start);
    }

    [Fact]
    public void Ids_and_timestamps_follow_the_contract()
    {
        Assert.Equal("2026-11-21T08:00:00Z", EngineTime.Format(T("2026-11-21T08:00:00Z")));
        Assert.Equal("2026-11-21T08:00:01.250Z", EngineTime.Format(T("2026-11-21T08:00:01.2509Z")));
        Assert.Equal("2026-11-21T08:00:01Z", EngineTime.Format(T("2026-11-21T08:00:01.0009Z")));
        Assert.Equal(MessageIds.Sha256Hex("wenxi|F1|heat|2026-11-21T08:00:00Z"), MessageIds.Kpi("wenxi", "F1", "heat", T("2026-11-21T08:00:00Z")));
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", MessageIds.Sha256Hex("abc"));
    }

    [Fact]
    public void Records_out_of_order_stop_the_engine_and_equal_times_keep_input_order()
    {
        var engine = new KpiEngine(new PlantModel(Config()));
        engine.ApplySample("F1.Power", H0, 0);
        engine.ApplySample("F1.Gas", H0, 0);
        Assert.Throws<OutOfOrderRecordException>(() => engine.ApplySample("F1.Power", At(H0, -1), 0));
    }

    [Fact]
    public void Record_codec_round_trips_and_rejects_malformed_lines()
    {
        string[] lines =
        [
            """{"ts":"2026-11-21T08:00:01.250Z","tag":"F1.GasTotal","value":1200345.5}""",
            """{"ts":"2026-11-21T08:00:01.300Z","tag":"F1.State","value":1,"quality":"Uncertain"}""",
            """{"ts":"2026-11-21T08:00:02.000Z","scale":"charge-scale-1","grossKg":8000,"motion":false}""",
            """{"ts":"2026-11-21T08:00:09.000Z","operator":"material","furnace":"F1","material":"PostConsumerUbc"}""",
            """{"ts":"2026-11-21T09:10:00.000Z","operator":"void","ticket":"abc","reason":"wrong furnace"}""",
        ];
        foreach (var line in lines)
        {
            var record = RecordCodec.Parse(line);
            Assert.Equal(record, RecordCodec.Parse(RecordCodec.Write(record)));
        }

        Assert.Throws<RecordFormatException>(() => RecordCodec.Parse("""{"ts":"2026-11-21T08:00:00","tag":"x","value":1}"""));
        Assert.Throws<RecordFormatException>(() => RecordCodec.Parse("""{"ts":"2026-11-21T08:00:00Z","tag":"x","value":"1"}"""));
        Assert.Throws<RecordFormatException>(() => RecordCodec.Parse("""{"ts":"2026-11-21T08:00:00Z","operator":"material","furnace":"F1","material":"Gold"}"""));
        Assert.Throws<RecordFormatException>(() => RecordCodec.Parse("""{"ts":"2026-11-21T08:00:00Z"}"""));
        Assert.Throws<RecordFormatException>(() => RecordCodec.Parse("not json"));
        var ex = Assert.Throws<ReplayException>(() => Replayer.Run(new PlantModel(Config()), [lines[0], "", lines[0].Replace("08:00:01.250", "08:00:00.000", StringComparison.Ordinal)]));
        Assert.Equal(3, ex.Line);
    }
}

public class PeriodTests
{
    [Fact]
    public void Month_to_date_sums_published_days_and_the_minutes_of_the_open_day()
    {
        var h = new Harness(Config([Furnace("F1", meters: [new MeterConfig { Tag = "F1.Power", Kind = MeterKind.Electricity }])]));
        long d0 = T("2026-10-31T16:00:00Z");                   // 2026-11-01 00:00 in Asia/Shanghai
        h.Sample("F1.Power", d0, 0);
        h.Sample("F1.Power", At(d0, 86400), 100);              // day 1: 100 kWh
        h.Load("F1-charge", At(d0, 90000), 1000);
        h.Sample("F1.Power", At(d0, 2 * 86400), 300);          // day 2: 200 kWh
        h.Sample("F1.Power", At(d0, 2 * 86400 + 3600), 330);   // day 3 so far: 30 kWh
        h.Run();
        Assert.Equal(2, h.Payloads("/F1/kpi/day").Count());
        var mtd = h.Engine.ToDate(0, year: false);
        Assert.Equal(330, mtd.ElectricityKWh, 1e-9);
        Assert.Equal(1000, mtd.ChargedKg);
        var ytd = h.Engine.ToDate(h.Engine.Model.SiteEntity, year: true);
        Assert.Equal(330, ytd.ElectricityKWh, 1e-9);
    }
}
