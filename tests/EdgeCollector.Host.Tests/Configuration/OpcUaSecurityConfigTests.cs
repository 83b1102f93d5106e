using EdgeCollector.Core.Configuration;
using static EdgeCollector.Host.Tests.Configuration.ConfigTestSupport;

namespace EdgeCollector.Host.Tests.Configuration;

/// <summary>The OpcUa security keys added by issue 6 (Security.PkiDir, Security.AutoAcceptUntrusted).</summary>
public sealed class OpcUaSecurityConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-sec-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Json(string security) => $$"""
        {
          "Site": { "Id": "t", "Name": "t", "TimeZone": "UTC", "ShiftStarts": ["00:00"] },
          "Sources": [ { "Name": "plc", "Type": "OpcUa", "Endpoint": "opc.tcp://127.0.0.1:4840", "Security": {{security}},
                         "Tags": [ { "Tag": "F1.State", "NodeId": "ns=2;s=F1.State" } ] } ],
          "Furnaces": [ { "Id": "F1", "StateTag": "F1.State" } ],
          "Factors": { "Set": "t" },
          "Storage": { "DataDir": "data" }
        }
        """;

    [Fact]
    public void Pki_dir_and_auto_accept_are_read()
    {
        var result = LoadJson(Json("""{ "Mode": "SignAndEncrypt", "Policy": "Aes256_Sha256_RsaPss", "PkiDir": "/var/lib/edge/pki", "AutoAcceptUntrusted": true }"""));
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var plc = result.Config!.Sources[0];
        Assert.Equal(("/var/lib/edge/pki", true, SecurityMode.SignAndEncrypt), (plc.PkiDir, plc.AutoAcceptUntrusted, plc.SecurityMode));
    }

    [Fact]
    public void Defaults_are_no_pki_dir_and_no_auto_accept()
    {
        var result = LoadJson(Json("""{ "Mode": "Sign", "Policy": "Basic256Sha256" }"""));
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal((null, false), (result.Config!.Sources[0].PkiDir, result.Config.Sources[0].AutoAcceptUntrusted));
    }

    [Fact]
    public void A_pki_dir_that_is_a_file_is_named_by_its_path()
    {
        var file = Path.Combine(_dir, "pki.txt");
        File.WriteAllText(file, "x");
        var result = LoadJson(Json($$"""{ "Mode": "Sign", "Policy": "Basic256Sha256", "PkiDir": "{{file.Replace("\\", "\\\\", StringComparison.Ordinal)}}" }"""));
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("Sources[0].Security.PkiDir: ", error, StringComparison.Ordinal);
        Assert.Contains("is a file", error, StringComparison.Ordinal);
    }
}
