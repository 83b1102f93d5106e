using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCollector.Modbus.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EdgeCollector.Modbus.Tests.Benchmarks;

/// <summary>
/// Request rate of our TCP master against the pymodbus 3.0.0rc1 sync client, same server, same run.
/// It measures and prints; it asserts only that both clients read correct data (no speed assertion).
/// Seconds per measurement: EDGE_BENCH_SECONDS (default 1). Run with
/// <c>dotnet test tests/EdgeCollector.Modbus.Tests --filter Category=Benchmark --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Category", "Benchmark")]
public sealed partial class TcpRequestRateBenchmark(ITestOutputHelper output)
{
    private const int Registers = 10;

    private static double Seconds => double.TryParse(Environment.GetEnvironmentVariable("EDGE_BENCH_SECONDS"), CultureInfo.InvariantCulture, out double s) ? s : 1.0;

    [Fact]
    public async Task Our_master_and_the_pymodbus_client_against_our_slave_and_the_pymodbus_server()
    {
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, Enumerable.Range(0, 100).Select(i => (ushort)i).ToArray());
        await using var ourSlave = new ModbusTcpSlave(units).Start();
        using var pymodbusServer = await PymodbusServer.StartTcpAsync(new Dictionary<string, object>
        {
            ["1"] = new
            {
                size = 100,
                points = Enumerable.Range(0, 100).Select(i => new { area = "hr", address = i, type = "uint16", order = "ABCD", value = i }).ToArray(),
                bits = Array.Empty<object>(),
            },
        });

        var lines = new List<string>
        {
            $"FC03 x{Registers} registers, unit 1, 127.0.0.1, {Seconds:0.#} s per row, {Environment.ProcessorCount} CPUs, load {LoadAverage()}",
        };
        // Warm-up: tiered JIT of our master and slave, and Python's first imports, outside the figures.
        await OurMasterAsync(ourSlave.LocalEndPoint.Port, inFlight: 1, seconds: 0.5);
        await OurMasterAsync(ourSlave.LocalEndPoint.Port, inFlight: 8, seconds: 0.5);
        foreach (var (serverName, port) in new[] { ("EdgeCollector slave", ourSlave.LocalEndPoint.Port), ("pymodbus server", pymodbusServer.Port) })
        {
            double ours = await OurMasterAsync(port, inFlight: 1);
            double oursPipelined = await OurMasterAsync(port, inFlight: 8);
            double theirs = await PymodbusClientAsync(port);
            lines.Add($"{serverName,-20} | EdgeCollector master, 1 in flight: {ours,8:0} req/s | 8 in flight: {oursPipelined,8:0} req/s | pymodbus sync client: {theirs,8:0} req/s");
        }

        foreach (var line in lines)
        {
            output.WriteLine(line);
            Console.WriteLine(line);
        }
    }

    private static async Task<double> OurMasterAsync(int port, int inFlight, double? seconds = null)
    {
        await using var master = new ModbusTcpConnection("127.0.0.1", port, new ModbusConnectionOptions { MaxInFlight = inFlight, Timeout = TimeSpan.FromSeconds(5), Retries = 0 });
        await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, Registers); // connect outside the measurement
        long requests = 0;
        var sw = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds ?? Seconds);
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
        {
            while (sw.Elapsed < deadline)
            {
                var registers = await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, Registers);
                Assert.Equal((ushort)9, registers[9]);
                Interlocked.Increment(ref requests);
            }
        }));
        return requests / sw.Elapsed.TotalSeconds;
    }

    private static async Task<double> PymodbusClientAsync(int port)
    {
        var (exitCode, text) = await PeerProcess.RunAsync(
            TimeSpan.FromSeconds(Seconds + 60),
            PymodbusServer.Python,
            PymodbusServer.Script("pymodbus_client_bench.py"),
            port.ToString(CultureInfo.InvariantCulture),
            Seconds.ToString(CultureInfo.InvariantCulture),
            Registers.ToString(CultureInfo.InvariantCulture));
        var match = Result().Match(text);
        Assert.True(exitCode == 0 && match.Success, $"pymodbus client failed ({exitCode}):\n{text}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) / double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    [GeneratedRegex(@"REQUESTS (\d+) SECONDS ([0-9.]+)")]
    private static partial Regex Result();
}
