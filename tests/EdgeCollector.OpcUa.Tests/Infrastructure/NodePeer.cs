using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeCollector.OpcUa.Tests.Infrastructure;

/// <summary>
/// Runs a node-opcua peer script from tests/EdgeCollector.OpcUa.Tests/peers. Fails (never skips) when node
/// or node-opcua is missing: CI runs <c>cd tests/peers &amp;&amp; npm ci</c>. The process is killed on dispose and
/// also exits by itself when its stdin closes.
/// </summary>
public sealed class NodePeer : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<string> _lines = [];
    private readonly object _gate = new();
    private readonly SemaphoreSlim _lineAdded = new(0, int.MaxValue);

    private NodePeer(Process process)
    {
        _process = process;
    }

    /// <summary>All output so far (stdout and stderr), for assertion messages.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
                return _output.ToString();
        }
    }

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>The exit code (after exit).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>A free TCP port on 127.0.0.1 (bind port 0, read it, release it).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Walks up from the test output directory to tests/peers/node_modules holding node-opcua.</summary>
    public static string FindNodeModules()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "peers", "node_modules");
            if (Directory.Exists(Path.Combine(candidate, "node-opcua")))
                return candidate;
            candidate = Path.Combine(dir.FullName, "peers", "node_modules");
            if (Directory.Exists(Path.Combine(candidate, "node-opcua")))
                return candidate;
        }

        throw new InvalidOperationException(
            "node-opcua not found: walked up from " + AppContext.BaseDirectory + " looking for tests/peers/node_modules/node-opcua. Run: cd tests/peers && npm ci");
    }

    /// <summary>Starts a peer script and waits (bounded) for its line starting with "READY".</summary>
    public static async Task<(NodePeer Peer, string ReadyLine)> StartAsync(string script, IEnumerable<string> args, TimeSpan readyTimeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var modules = FindNodeModules();
        var scriptPath = Path.Combine(AppContext.BaseDirectory, "peers", script);
        if (!File.Exists(scriptPath))
            throw new FileNotFoundException("Peer script missing", scriptPath);
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(modules)!,
        };
        info.ArgumentList.Add(scriptPath);
        foreach (var a in args)
            info.ArgumentList.Add(a);
        info.Environment["NODE_PATH"] = modules;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("node is not installed or not on PATH: " + ex.Message, ex);
        }

        var peer = new NodePeer(process);
        process.OutputDataReceived += (_, e) => peer.OnLine(e.Data, "");
        process.ErrorDataReceived += (_, e) => peer.OnLine(e.Data, "[err] ");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = await peer.WaitForLineAsync(l => l.StartsWith("READY", StringComparison.Ordinal), readyTimeout);
            return (peer, ready);
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    private void OnLine(string? line, string prefix)
    {
        if (line is null)
            return;
        lock (_gate)
        {
            _output.Append(prefix).AppendLine(line);
            if (prefix.Length == 0)
                _lines.Add(line);
        }

        _lineAdded.Release();
    }

    /// <summary>Waits (bounded) for a stdout line matching <paramref name="predicate"/>; throws with the output on timeout or exit.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = 0;
        while (true)
        {
            lock (_gate)
            {
                for (; seen < _lines.Count; seen++)
                {
                    if (predicate(_lines[seen]))
                        return _lines[seen];
                }
            }

            if (_process.HasExited)
            {
                // Let the asynchronous output readers drain, then look once more before giving up.
                await _process.WaitForExitAsync();
                lock (_gate)
                {
                    var line = _lines.Skip(seen).FirstOrDefault(predicate);
                    if (line is not null)
                        return line;
                }

                throw new InvalidOperationException($"node peer exited with {_process.ExitCode}:\n{Output}");
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"node peer did not print the expected line within {timeout.TotalSeconds} s:\n{Output}");
            await _lineAdded.WaitAsync(left < TimeSpan.FromMilliseconds(500) ? left : TimeSpan.FromMilliseconds(500));
        }
    }

    /// <summary>Waits (bounded) for the process to exit by itself.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"node peer did not exit within {timeout.TotalSeconds} s:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the process (and its children) now.</summary>
    public void Kill()
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
            // Already gone.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
