using System.Globalization;
using EdgeCollector.Configuration;
using static EdgeCollector.Host.Tests.Configuration.ConfigTestSupport;

namespace EdgeCollector.Host.Tests.Configuration;

[Collection(ConfigurationCollection.Name)]
public sealed class OverrideTests
{
    [Fact]
    public void An_EDGE_environment_variable_overrides_the_file()
    {
        using var _ = ConfigTestSupport.Environment(("EDGE_Uplink__Mqtt__Broker", "mqtts://10.1.0.5:8883"), ("EDGE_Sources__1__Tags__0__WordOrder", "DCBA"));

        var result = LoadJson(ValidJson);

        Assert.Empty(result.Errors);
        Assert.Equal("mqtts://10.1.0.5:8883", result.Config!.Uplink.Mqtt!.Broker);
        Assert.Equal(Core.Configuration.WordOrder.DCBA, result.Config.Sources[1].Tags[0].WordOrder);
    }

    [Fact]
    public void An_environment_override_is_validated_like_the_file()
    {
        using var _ = ConfigTestSupport.Environment(("EDGE_Sources__1__Tags__0__WordOrder", "ACBD"), ("EDGE_Dashbord__Urls", "http://x:1"));

        var result = LoadJson(ValidJson);

        Assert.Equal(2, result.Errors.Count);
        Assert.Contains("Sources[1].Tags[0].WordOrder: 'ACBD' is not one of ABCD, CDAB, BADC, DCBA", result.Errors);
        Assert.Contains("Dashbord: unknown key, set by the environment variable EDGE_Dashbord", result.Errors.Single(e => e.StartsWith("Dashbord", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_set_override_wins_over_the_environment_and_the_file()
    {
        using var _ = ConfigTestSupport.Environment(("EDGE_Uplink__Mqtt__ClientId", "from-env"));
        var overrides = ConfigLoader.ParseOverrides(["Uplink:Mqtt:ClientId=from-cli", "Site.Name=Plant = 1"], out var errors);

        var result = ConfigLoader.Load(RepoPath("config", "demo.json"), overrides);

        Assert.Empty(errors);
        Assert.Empty(result.Errors);
        Assert.Equal("from-cli", result.Config!.Uplink.Mqtt!.ClientId);
        Assert.Equal("Plant = 1", result.Config.Site.Name);
    }

    [Fact]
    public void Set_keys_may_be_written_as_error_paths_or_with_double_underscores()
    {
        var overrides = ConfigLoader.ParseOverrides(
            ["Sources[1].Tags[0].Address=40", "Furnaces__0__StateTag=", "=x", "novalue", "Sources[x].Name=y"], out var errors);

        Assert.Equal("40", overrides["Sources:1:Tags:0:Address"]);
        Assert.Equal("", overrides["Furnaces:0:StateTag"]);
        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.Contains("expected Key=Value", e, StringComparison.Ordinal));

        var result = LoadJson(ValidJson, overrides);
        Assert.Empty(result.Errors);
        Assert.Equal(40, result.Config!.Sources[1].Tags[0].Address);
        Assert.Null(result.Config.Furnaces[0].StateTag);
    }

    [Fact]
    public void Numbers_are_read_in_the_invariant_culture_whatever_the_current_culture()
    {
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var ok = LoadJson(ValidJson, new Dictionary<string, string?> { ["Engine:MaxHoldSeconds"] = "1.5", ["Factors:Fuels:NaturalGas:Oxidation"] = "9.9e-1" });
            Assert.Empty(ok.Errors);
            Assert.Equal(1.5, ok.Config!.Engine.MaxHoldSeconds);
            Assert.Equal(0.99, ok.Config.Factors.Fuels["NaturalGas"].Oxidation);
            Assert.Equal(0.038931, ok.Config.Factors.Fuels["NaturalGas"].NcvGJPerNm3);

            var comma = LoadJson(ValidJson, new Dictionary<string, string?> { ["Engine:MaxHoldSeconds"] = "1,5" });
            Assert.Equal(
                ["Engine.MaxHoldSeconds: '1,5' is not a number (numbers use '.' as the decimal separator, whatever the machine's culture)"],
                comma.Errors);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public void Secrets_come_from_the_environment()
    {
        using var _ = ConfigTestSupport.Environment(("EDGECOLLECTOR_TEST_SECRET", "s3cret"), ("EDGECOLLECTOR_TEST_EMPTY", ""));

        Assert.Equal("s3cret", SecretResolver.Resolve("EDGECOLLECTOR_TEST_SECRET"));
        Assert.Null(SecretResolver.Resolve("EDGECOLLECTOR_TEST_EMPTY"));
        Assert.Null(SecretResolver.Resolve("EDGECOLLECTOR_TEST_UNSET_" + Guid.NewGuid().ToString("N")));
        Assert.Null(SecretResolver.Resolve(null));
        Assert.Null(SecretResolver.Resolve(" "));
    }
}
