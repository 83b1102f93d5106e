using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Simulators.Plant;

/// <summary>
/// The collector configuration of the simulated plant: ticket-driven heats (no PLC tags), each
/// furnace with a gas and a power totaliser and three scales, optionally the auxiliary meter as a
/// site meter. Replaying a scenario's recording with it must reproduce the scenario's ground truth.
/// </summary>
public static class SimPlantConfig
{
    /// <summary>Builds the config for <paramref name="options"/>.</summary>
    /// <param name="options">The scenario the recording came from.</param>
    /// <param name="withSiteMeter">Count <c>Aux.PowerTotal</c> as a site meter (allocated to the furnaces).</param>
    /// <param name="maxRatePerHour">Counter.MaxRatePerHour of every totaliser: far above any simulated rate.</param>
    public static EdgeConfig Build(ScenarioOptions options, bool withSiteMeter, double maxRatePerHour = 1e6)
    {
        var furnaces = options.FurnaceIds;
        var meterTags = furnaces.SelectMany(f => new[]
        {
            new TagConfig { Tag = f + ".GasTotal", Unit = "Nm3", Counter = new CounterConfig { MaxRatePerHour = maxRatePerHour } },
            new TagConfig { Tag = f + ".PowerTotal", Unit = "kWh", Counter = new CounterConfig { MaxRatePerHour = maxRatePerHour } },
        }).Append(new TagConfig { Tag = "Aux.PowerTotal", Unit = "kWh", Counter = new CounterConfig { MaxRatePerHour = maxRatePerHour } });

        var sources = new List<SourceConfig>
        {
            new() { Name = "meters", Type = SourceType.Recording, Tags = meterTags.ToArray() },
        };
        foreach (string f in furnaces)
        {
            foreach (var kind in Enum.GetValues<ScaleKind>())
            {
                sources.Add(new SourceConfig
                {
                    Name = ScenarioOptions.ScaleName(f, kind),
                    Type = SourceType.Scale,
                    Unit = "kg",
                    StableBandKg = options.StableBandKg,
                    StableSeconds = options.StableSeconds,
                    ZeroBandKg = options.ZeroBandKg,
                });
            }
        }

        return new EdgeConfig
        {
            Site = new SiteConfig { Id = "sim", Name = "Simulated melt shop", TimeZone = options.TimeZone, ShiftStarts = options.ShiftStarts },
            Sources = sources,
            Furnaces = furnaces.Select(f => new FurnaceConfig
            {
                Id = f,
                Meters =
                [
                    new MeterConfig { Tag = f + ".GasTotal", Kind = MeterKind.Fuel, Fuel = "NaturalGas" },
                    new MeterConfig { Tag = f + ".PowerTotal", Kind = MeterKind.Electricity },
                ],
                Scales = Enum.GetValues<ScaleKind>().Select(kind => new FurnaceScaleConfig
                {
                    Source = ScenarioOptions.ScaleName(f, kind),
                    Role = kind switch { ScaleKind.Charge => ScaleRole.Charge, ScaleKind.Tap => ScaleRole.Tap, _ => ScaleRole.Dross },
                }).ToArray(),
                DefaultMaterial = Material.PostConsumerOther,
            }).ToArray(),
            SiteMeters = withSiteMeter ? [new MeterConfig { Tag = "Aux.PowerTotal", Kind = MeterKind.Electricity }] : [],
            Factors = new FactorsConfig
            {
                Set = TruthFactors.Set,
                Fuels = new Dictionary<string, FuelFactors>
                {
                    ["NaturalGas"] = new()
                    {
                        NcvGJPerNm3 = TruthFactors.NcvGJPerNm3, CarbonTCPerTJ = TruthFactors.CarbonTCPerTJ, Oxidation = TruthFactors.Oxidation,
                        Source = "GB/T 32151.10-2023 table C.1",
                    },
                },
                Electricity = new ElectricityFactors
                {
                    GridTCO2PerMWh = TruthFactors.GridTCO2PerMWh, ResidualTCO2PerMWh = TruthFactors.GridTCO2PerMWh,
                    Source = "MEE national average 2022",
                },
                MaterialYield = new Dictionary<Material, double>
                {
                    [Material.Primary] = 0.99, [Material.PreConsumer] = 0.97, [Material.PostConsumerUbc] = 0.90,
                    [Material.PostConsumerOther] = 0.92, [Material.Alloying] = 1.0,
                },
                MaterialYieldSource = "simulated plant",
            },
            Targets = new TargetsConfig
            {
                IntensityTCO2ePerT = new Dictionary<int, double> { [2025] = 0.79, [2026] = 0.77, [2027] = 0.75 },
                Source = "ASI 1.5 °C pathway tool v2, base year 2023",
            },
            Uplink = new UplinkConfig { Mqtt = new MqttConfig { ClientId = "edge-sim", TopicPrefix = "edgecollector/v1" } },
        };
    }
}
