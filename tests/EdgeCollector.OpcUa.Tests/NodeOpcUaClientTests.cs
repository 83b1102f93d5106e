using System.Text.Json;
using EdgeCollector.OpcUa.Tests.Infrastructure;
using EdgeCollector.Sim.OpcUa;

namespace EdgeCollector.OpcUa.Tests;

/// <summary>A real node-opcua client against our furnace PLC simulator.</summary>
[Trait("Category", "Integration")]
public sealed class NodeOpcUaClientTests
{
    [Fact]
    public async Task Node_opcua_client_browses_reads_and_subscribes_to_the_simulator()
    {
        await using var sim = new FurnacePlcSimulator(new FurnacePlcOptions { TickInterval = TimeSpan.FromMilliseconds(50), TimeScale = 600 });
        await sim.StartAsync();
        sim.SetState("F1", FurnaceState.Melting);
        var (peer, _) = await NodePeer.StartAsync("node-client.js", [sim.EndpointUrl, FurnacePlcSimulator.PlcNamespace, "\"DB_F1\".\"GasTotal\""], TimeSpan.FromSeconds(60));
        using (peer)
        {
            var line = await peer.WaitForLineAsync(l => l.StartsWith("RESULT ", StringComparison.Ordinal) || l.StartsWith("ERROR ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            Assert.True(line.StartsWith("RESULT ", StringComparison.Ordinal), peer.Output);
            using var json = JsonDocument.Parse(line["RESULT ".Length..]);
            var root = json.RootElement;
            Assert.Equal(3, root.GetProperty("namespaceIndex").GetInt32());
            Assert.Contains("Server", root.GetProperty("objects").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("ns=3;s=\"DB_F1\"", root.GetProperty("path")[2].GetString());
            var tags = root.GetProperty("tags").EnumerateArray().Select(e => e.GetString()).ToHashSet();
            Assert.Superset(new HashSet<string?> { "State", "HeatNo", "GasTotal", "GasFlow", "BathTemp", "HeelMass" }, tags);
            var read = root.GetProperty("read");
            Assert.Equal("Good", read.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Number, read.GetProperty("value").ValueKind);
            Assert.Equal("ns=0;i=11", root.GetProperty("dataType").GetString());
            Assert.Equal("3:GasTotal", root.GetProperty("browseName").GetString());
            var values = root.GetProperty("values").EnumerateArray().Select(v => v.GetProperty("value").GetDouble()).ToArray();
            Assert.True(values.Length >= 3);
            Assert.True(values.Zip(values.Skip(1)).All(p => p.Second > p.First), string.Join(",", values));
            Assert.All(root.GetProperty("values").EnumerateArray(), v => Assert.Equal("Good", v.GetProperty("status").GetString()));
            Assert.Equal(0, await peer.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }
    }
}
