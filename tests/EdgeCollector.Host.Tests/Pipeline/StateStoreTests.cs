using System.Text.Json;
using EdgeCollector.Configuration;
using EdgeCollector.Core.Engine;
using EdgeCollector.Pipeline;

namespace EdgeCollector.Host.Tests.Pipeline;

public sealed class StateStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-store-").FullName;

    private static long T(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).UtcTicks;

    [Fact]
    public async Task Tickets_and_published_windows_survive_incremental_checkpoints_so_a_void_after_restart_republishes_the_heat()
    {
        var config = ConfigLoader.Load(null).Config!;   // the embedded demo plant
        var model = new PlantModel(config);
        var engine = new KpiEngine(model);
        long t0 = T("2026-11-21T08:00:00Z");
        void Load(string scale, double s, double kg)
        {
            for (int i = 0; i < 3; i++)
            {
                engine.ApplyScaleReading(scale, t0 + (long)((s + i) * TimeSpan.TicksPerSecond), kg, false);
            }

            engine.ApplyScaleReading(scale, t0 + (long)((s + 3) * TimeSpan.TicksPerSecond), 0, false);
        }

        foreach (var tag in new[] { "F1.GasTotal", "F1.PowerTotal", "F2.GasTotal", "F2.PowerTotal", "Aux.PowerTotal" })
        {
            engine.ApplySample(tag, t0, 0);
        }

        Load("F1-charge", 10, 5000);
        Load("F1-charge", 100, 1000);
        Load("F1-tap", 600, 5800);
        Load("F1-charge", 1000, 4000);   // closes the heat at 08:16:42
        foreach (var tag in new[] { "F1.GasTotal", "F1.PowerTotal", "F2.GasTotal", "F2.PowerTotal", "Aux.PowerTotal" })
        {
            engine.ApplySample(tag, t0 + 1200 * TimeSpan.TicksPerSecond, 10);
        }

        var before = engine.TakeMessages();
        var heat = JsonDocument.Parse(before.Single(m => m.Topic.EndsWith("/F1/kpi/heat", StringComparison.Ordinal)).Payload).RootElement;
        Assert.Equal(6000, heat.GetProperty("metal").GetProperty("chargedKg").GetDouble());
        string secondCharge = before.Where(m => m.Topic.EndsWith("/F1/ticket", StringComparison.Ordinal)).Select(m => m.Id).ElementAt(1);

        // Two checkpoints: the second carries only what changed since the first.
        await using (var store = await StateStore.OpenAsync(_dir))
        {
            var first = engine.TakeCheckpoint();
            Assert.True(first.TicketUpserts.Count >= 4);
            await store.CommitAsync(first, engine.RecordTime, before, new Dictionary<string, long>());
            var second = engine.TakeCheckpoint();
            Assert.Empty(second.TicketUpserts);
            Assert.Empty(second.PublishedUpserts);
            await store.CommitAsync(second, engine.RecordTime, [], new Dictionary<string, long>());
        }

        await using (var store = await StateStore.OpenAsync(_dir))
        {
            var (state, _) = await store.LoadAsync();
            var restored = new KpiEngine(model, state);
            Assert.True(restored.ApplyVoid(t0 + 1300 * TimeSpan.TicksPerSecond, secondCharge, "wrong furnace"));
            var after = restored.TakeMessages();
            var corrected = JsonDocument.Parse(after.Single(m => m.Topic.EndsWith("/F1/kpi/heat", StringComparison.Ordinal)).Payload).RootElement;
            Assert.Equal(1, corrected.GetProperty("rev").GetInt32());
            Assert.Equal(5000, corrected.GetProperty("metal").GetProperty("chargedKg").GetDouble());
            Assert.Equal(heat.GetProperty("id").GetString(), corrected.GetProperty("id").GetString());
            Assert.True(corrected.GetProperty("seq").GetInt64() > before.Max(m => m.Seq));
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
