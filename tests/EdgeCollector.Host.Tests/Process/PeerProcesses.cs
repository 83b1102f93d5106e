using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgeCollector.Host.Tests.Process;

/// <summary>
/// Third-party peer processes a test starts (mosquitto, mosquitto_sub, …) and the loopback helpers they
/// need; disposing kills every process still running, so each test stops what it starts.
/// </summary>
internal sealed class PeerProcesses : IDisposable
{
    private readonly List<System.Diagnostics.Process> _processes = [];

    /// <summary>Starts <paramref name="file"/> with redirected output; a missing program names its package.</summary>
    public System.Diagnostics.Process Start(string file, params string[] args)
    {
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"{file} is not installed (tests/run.sh installs the peers: apt-get install mosquitto mosquitto-clients …)");
        }

        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var p = System.Diagnostics.Process.Start(psi)!;
        lock (_processes)
        {
            _processes.Add(p);
        }

        return p;
    }

    /// <summary>Runs a program to its end and asserts exit code 0 (its stderr in the message otherwise).</summary>
    public async Task RunToEndAsync(string file, params string[] args)
    {
        var p = Start(file, args);
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await p.StandardError.ReadToEndAsync()}");
    }

    /// <summary>A loopback TCP port nothing listens on right now.</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public static bool CanConnect(int port)
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms; throws naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        lock (_processes)
        {
            foreach (var p in _processes)
            {
                try
                {
                    if (!p.HasExited) p.Kill(entireProcessTree: true);
                    p.WaitForExit(5000);
                }
                catch (InvalidOperationException)
                {
                }

                p.Dispose();
            }

            _processes.Clear();
        }
    }
}
