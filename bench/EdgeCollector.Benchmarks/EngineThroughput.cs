using BenchmarkDotNet.Attributes;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;

namespace EdgeCollector.Benchmarks;

/// <summary>
/// issue 2: engine throughput for a plant of 20 furnaces and 2,000 totaliser tags (100 per furnace),
/// every totaliser read once a second, each furnace in an open PLC heat: every sample is spread into
/// its minute and its heat, and every minute 21 minute windows are finalised and published.
/// </summary>
[MemoryDiagnoser]
public class EngineThroughput
{
    public const int Furnaces = 20;
    public const int MetersPerFurnace = 100;
    public const int Seconds = 600;

    private PlantModel _model = null!;
    private int[] _tag = [];
    private long[] _ticks = [];
    private double[] _value = [];

    public static int SampleCount => Furnaces * MetersPerFurnace * Seconds;

    [GlobalSetup]
    public void Setup()
    {
        _model = new PlantModel(Config());
        var tags = new List<int>();
        var ticks = new List<long>();
        var values = new List<double>();
        long t0 = new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero).UtcTicks;
        var rnd = new Random(1);
        var totals = new double[Furnaces * MetersPerFurnace];
        for (int s = 0; s < Seconds; s++)
        {
            for (int f = 0; f < Furnaces; f++)
            {
                for (int m = 0; m < MetersPerFurnace; m++)
                {
                    int i = f * MetersPerFurnace + m;
                    totals[i] += rnd.NextDouble();
                    tags.Add(_model.TagIndex[$"F{f}.M{m}"]);
                    ticks.Add(t0 + s * TimeSpan.TicksPerSecond + i * 100);   // distinct instants within the second
                    values.Add(totals[i]);
                }
            }
        }

        _tag = tags.ToArray();
        _ticks = ticks.ToArray();
        _value = values.ToArray();
    }

    public static EdgeConfig Config()
    {
        var furnaces = Enumerable.Range(0, Furnaces).Select(f => new FurnaceConfig
        {
            Id = $"F{f}",
            StateTag = $"F{f}.State",
            Meters = Enumerable.Range(0, MetersPerFurnace).Select(m => new MeterConfig
            {
                Tag = $"F{f}.M{m}",
                Kind = m % 2 == 0 ? MeterKind.Electricity : MeterKind.Fuel,
                Fuel = m % 2 == 0 ? null : "NaturalGas",
            }).ToList(),
        }).ToList();
        return new EdgeConfig
        {
            Site = new SiteConfig { Id = "bench", TimeZone = "Asia/Shanghai", ShiftStarts = [new(8, 0), new(16, 0), new(0, 0)] },
            Furnaces = furnaces,
            Factors = new FactorsConfig
            {
                Set = "bench",
                Fuels = new Dictionary<string, FuelFactors> { ["NaturalGas"] = new() { NcvGJPerNm3 = 0.038931, CarbonTCPerTJ = 15.3, Oxidation = 0.99 } },
                Electricity = new ElectricityFactors { GridTCO2PerMWh = 0.5366 },
            },
        };
    }

    /// <summary>Applies the whole stream to a fresh engine whose furnaces are all in an open heat.</summary>
    [Benchmark(OperationsPerInvoke = Furnaces * MetersPerFurnace * Seconds)]
    public long ApplySamples()
    {
        var engine = new KpiEngine(_model);
        long t0 = _ticks[0] - TimeSpan.TicksPerSecond;
        for (int f = 0; f < Furnaces; f++)
        {
            engine.ApplySample($"F{f}.State", t0, 0);
        }

        for (int f = 0; f < Furnaces; f++)
        {
            engine.ApplySample($"F{f}.State", t0 + f, 2);   // melting: a heat opens
        }

        for (int i = 0; i < _tag.Length; i++)
        {
            engine.ApplySample(_tag[i], _ticks[i], _value[i]);
            if ((i & 0xFFFF) == 0)
            {
                engine.TakeMessages();
            }
        }

        return engine.Counters.Published;
    }
}
