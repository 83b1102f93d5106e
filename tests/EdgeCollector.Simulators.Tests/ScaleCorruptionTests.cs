using System.Buffers;
using EdgeCollector.Core.Engine;
using EdgeCollector.Scales;
using EdgeCollector.Sim.Scales;
using EdgeCollector.Simulators.Live;
using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Simulators.Tests;

/// <summary>
/// The corrupt switch at the codec + engine level, without a clock: every load of a 3-hour live
/// scenario sent as frames (10 per simulated second) of its scale's protocol, N % damaged by
/// <see cref="ScaleCorruptor"/>, decoded with re-synchronisation as the scale link does, stamped
/// with the simulated time and replayed: every ticket of the truth must come out, with its weight.
/// </summary>
public class ScaleCorruptionTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Every_ticket_survives_damaged_frames(double percent)
    {
        var o = new ScenarioOptions { Duration = TimeSpan.FromHours(3), MinSettleReadings = 8 };
        var result = new PlantScenario(o).Generate();
        var records = result.Records.Where(r => r is TagRecord).ToList();
        var bad = new List<string>();
        int seed = 7;
        foreach (var run in result.Furnaces)
        {
            foreach (var kind in Enum.GetValues<ScaleKind>())
            {
                string name = ScenarioOptions.ScaleName(run.Id, kind);
                var codec = ScaleProtocols.Create(LivePlant.ProtocolOf(kind));
                var corruptor = new ScaleCorruptor(codec, percent, seed++);
                foreach (var w in run.Weighings.Where(w => w.Recorded && w.Scale == name))
                {
                    var buffer = new List<byte>();
                    long step = TimeSpan.TicksPerSecond / 10;
                    for (long t = w.Readings[0].Ticks - (3 * TimeSpan.TicksPerSecond); t <= w.Readings[^1].Ticks; t += step)
                    {
                        var r = w.Readings.LastOrDefault(x => x.Ticks <= t);
                        double kg = r.Ticks == 0 ? 0 : r.GrossKg;
                        bool motion = r.Ticks != 0 && r.Motion;
                        var (bytes, _) = corruptor.Apply(codec.Encode(ScaleFrame.Gross((decimal)kg, motion)));
                        buffer.AddRange(bytes);
                        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer.ToArray()));
                        while (true)
                        {
                            var status = codec.Decode(ref reader, out var frame, out var error);
                            if (status == ScaleDecodeStatus.NeedMoreData) break;
                            if (status == ScaleDecodeStatus.Rejected) { reader.Advance(error.BytesToSkip); continue; }
                            if (frame.GrossKg is { } g)
                            {
                                records.Add(new ScaleRecord(t, name, (double)g, frame.Motion ?? false));
                                if ((double)g != kg && (double)g != 0) bad.Add($"{name} decoded {g} (sent {kg}) at {t}");
                            }
                        }

                        buffer = buffer.Skip((int)reader.Consumed).ToList();
                    }
                }
            }
        }

        var lines = records.OrderBy(r => r.Ticks).Select(RecordCodec.Write).ToList();
        var messages = Replayer.Run(new PlantModel(SimPlantConfig.Build(o, withSiteMeter: true)), lines);
        var tickets = messages.Where(m => m.Topic.Contains("/ticket", StringComparison.Ordinal)).Select(m => System.Text.Json.JsonDocument.Parse(m.Payload).RootElement).ToList();
        var missing = result.Truth.Tickets.Where(t => !tickets.Any(p => p.GetProperty("scale").GetString() == t.Scale && p.GetProperty("grossKg").GetDouble() == t.Kg)).ToList();
        Assert.True(missing.Count == 0, string.Join("\n", missing.Select(m => $"{m.Scale} {m.Kg} {GroundTruth.FormatTime(m.StableAt)}")) + "\n" + string.Join("\n", bad.Take(30)));
    }
}
