using System.Diagnostics;

namespace EdgeCollector.Scales.Tests.Support;

/// <summary>
/// Two linked pseudo-terminals made by socat: what is written to <see cref="B"/> is read from
/// <see cref="A"/>. socat is killed in <see cref="Dispose"/>. A missing socat fails the test
/// (Process.Start throws): CI installs it, and a skipped real-peer test hides breakage.
/// </summary>
internal sealed class SocatPtyPair : IDisposable
{
    private readonly Process _socat;
    private readonly string _dir;

    public SocatPtyPair()
    {
        _dir = Directory.CreateTempSubdirectory("scales-pty-").FullName;
        A = Path.Combine(_dir, "a");
        B = Path.Combine(_dir, "b");
        var info = new ProcessStartInfo("socat")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "-d", "-d", $"pty,raw,echo=0,link={A}", $"pty,raw,echo=0,link={B}" })
        {
            info.ArgumentList.Add(arg);
        }

        _socat = Process.Start(info) ?? throw new InvalidOperationException("socat did not start");
        _socat.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (Log) { Log.Add(e.Data); } } };
        _socat.OutputDataReceived += (_, _) => { };
        _socat.BeginErrorReadLine();
        _socat.BeginOutputReadLine();
        var deadline = Stopwatch.StartNew();
        while (!(File.Exists(A) && File.Exists(B) && SocatReady()))
        {
            if (_socat.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                Dispose();
                throw new InvalidOperationException($"socat did not make the pty pair: {string.Join(" | ", Log)}");
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>The reading end (the collector's port).</summary>
    public string A { get; }

    /// <summary>The writing end (the simulated indicator).</summary>
    public string B { get; }

    /// <summary>socat's stderr, for failure messages.</summary>
    public List<string> Log { get; } = [];

    public void Dispose()
    {
        try
        {
            if (!_socat.HasExited)
            {
                _socat.Kill(entireProcessTree: true);
                _socat.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        finally
        {
            _socat.Dispose();
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>socat logs "starting data transfer loop" once both ptys are open.</summary>
    private bool SocatReady()
    {
        lock (Log)
        {
            return Log.Exists(l => l.Contains("starting data transfer loop", StringComparison.Ordinal));
        }
    }
}
