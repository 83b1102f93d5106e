using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeCollector.Mqtt.Tests.Infrastructure;

/// <summary>
/// A child process (a real peer) whose output is captured line by line. Dispose kills it (and its children)
/// so every test stops what it starts, also on failure. A missing binary fails the test, never skips it.
/// </summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly object _gate = new();

    private PeerProcess(Process process) => _process = process;

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Name { get; private init; } = "";

    public static string Require(string path)
    {
        if (File.Exists(path)) return path;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var candidate = Path.Combine(dir, Path.GetFileName(path));
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException(
            $"Peer binary '{path}' is missing: install it (apt-get install mosquitto mosquitto-clients influxdb victoria-metrics openssl). Integration tests fail rather than skip.");
    }

    public static PeerProcess Start(string file, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(Require(file))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
        {
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        }
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var peer = new PeerProcess(process) { Name = Path.GetFileName(file) };
        process.OutputDataReceived += (_, e) => peer.Add(e.Data);
        process.ErrorDataReceived += (_, e) => peer.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    private void Add(string? line)
    {
        if (line is null) return;
        lock (_gate) _lines.Add(line);
    }

    public List<string> Lines()
    {
        lock (_gate) return [.. _lines];
    }

    public string Output => string.Join('\n', Lines().TakeLast(60));

    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            var hit = Lines().FirstOrDefault(predicate);
            if (hit is not null) return hit;
            if (_process.HasExited)
            {
                await Task.Delay(100); // let the last output arrive
                hit = Lines().FirstOrDefault(predicate);
                if (hit is not null) return hit;
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} before the expected line. Output:\n{Output}");
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"{Name}: expected line not seen within {timeout}. Output:\n{Output}");
    }

    /// <summary>Sends a POSIX signal (TERM for a graceful stop, KILL for a crash).</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("/bin/kill", ["-s", signal, _process.Id.ToString()]) { UseShellExecute = false })!;
        kill.WaitForExit(5000);
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public int ExitCode => _process.ExitCode;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    /// <summary>Runs a tool to completion (bounded) and returns its output; throws on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        using var p = Start(file, args);
        if (!await p.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(30)))
            throw new TimeoutException($"{file} did not finish. Output:\n{p.Output}");
        await Task.Delay(20);
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}:\n{p.Output}");
        return string.Join('\n', p.Lines());
    }
}

internal static class Net
{
    /// <summary>A free loopback port (bind to port 0, read it, release it).</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static async Task WaitForPortAsync(int port, TimeSpan timeout, PeerProcess? owner = null)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (owner is { HasExited: true })
                throw new InvalidOperationException($"{owner.Name} exited before listening on {port}:\n{owner.Output}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException($"Nothing listens on 127.0.0.1:{port} after {timeout}. {owner?.Output}");
    }

    public static string TempDir(string prefix)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
