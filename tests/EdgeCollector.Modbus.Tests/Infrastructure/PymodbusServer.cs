using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace EdgeCollector.Modbus.Tests.Infrastructure;

/// <summary>
/// peers/pymodbus_server.py run with the system interpreter (/usr/bin/python3, where Debian's
/// python3-pymodbus 3.0.0rc1 lives). A missing interpreter or module fails the test.
/// </summary>
public sealed class PymodbusServer : IDisposable
{
    public const string Python = "/usr/bin/python3";

    private readonly PeerProcess _process;
    private readonly string _configPath;

    private PymodbusServer(PeerProcess process, string configPath, int port)
    {
        _process = process;
        _configPath = configPath;
        Port = port;
    }

    public int Port { get; }

    public string Output => _process.Output;

    public static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "peers", name);

    public static async Task<PymodbusServer> StartTcpAsync(object units, int port = 0)
    {
        var (process, config) = Launch(new Dictionary<string, object> { ["mode"] = "tcp", ["port"] = port, ["units"] = units });
        try
        {
            int bound = 0;
            await process.WaitUntilAsync(
                () =>
                {
                    var line = process.Output.Split('\n').FirstOrDefault(l => l.StartsWith("LISTENING ", StringComparison.Ordinal));
                    return line is not null && int.TryParse(line["LISTENING ".Length..].Trim(), out bound);
                },
                TimeSpan.FromSeconds(20),
                "pymodbus TCP server");
            return new PymodbusServer(process, config, bound);
        }
        catch
        {
            process.Dispose();
            File.Delete(config);
            throw;
        }
    }

    public static async Task<PymodbusServer> StartRtuAsync(string device, int baud, object units)
    {
        var (process, config) = Launch(new Dictionary<string, object> { ["mode"] = "rtu", ["device"] = device, ["baud"] = baud, ["units"] = units });
        try
        {
            await process.WaitUntilAsync(() => process.Output.Contains("READY", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "pymodbus RTU server");
            return new PymodbusServer(process, config, 0);
        }
        catch
        {
            process.Dispose();
            File.Delete(config);
            throw;
        }
    }

    public static async Task<PymodbusServer> StartRtuOverTcpAsync(object units)
    {
        int port = FreePort();
        var (process, config) = Launch(new Dictionary<string, object> { ["mode"] = "rtu-over-tcp", ["port"] = port, ["units"] = units });
        try
        {
            await process.WaitUntilAsync(() => process.Output.Contains("READY", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "pymodbus RTU-over-TCP server");
            // pymodbus opens the listener after printing; wait (bounded) until it accepts.
            bool listening = false;
            await process.WaitUntilAsync(
                () =>
                {
                    if (!listening)
                    {
                        using var probe = new TcpClient();
                        try
                        {
                            probe.Connect(IPAddress.Loopback, port);
                            listening = true;
                        }
                        catch (SocketException)
                        {
                        }
                    }

                    return listening;
                },
                TimeSpan.FromSeconds(20),
                "pymodbus RTU-over-TCP listener");
            return new PymodbusServer(process, config, port);
        }
        catch
        {
            process.Dispose();
            File.Delete(config);
            throw;
        }
    }

    /// <summary>A TCP port that was free a moment ago (for restarting a peer on the same port).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Kill() => _process.Kill();

    public void Dispose()
    {
        _process.Dispose();
        File.Delete(_configPath);
    }

    private static (PeerProcess Process, string ConfigPath) Launch(object config)
    {
        string path = Path.Combine(Path.GetTempPath(), $"edge-pymodbus-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config));
        string script = Script("pymodbus_server.py");
        if (!File.Exists(script))
        {
            throw new FileNotFoundException("Peer script missing from the test output.", script);
        }

        return (PeerProcess.Start(Python, script, path), path);
    }
}
