using System.Diagnostics;
using System.Text;

namespace EdgeCollector.Modbus.Tests.Infrastructure;

/// <summary>
/// A real peer process (socat, pymodbus, mbpoll) started by a test. Output is captured for
/// failure messages; Dispose kills the whole process tree, so a failing test never leaks it.
/// A missing binary makes <see cref="Start"/> throw: integration tests fail, never skip.
/// </summary>
public sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private PeerProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int Id => _process.Id;

    public static PeerProcess Start(string fileName, params string[] args)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var process = new Process { StartInfo = psi };
        var peer = new PeerProcess(process);
        process.OutputDataReceived += (_, e) => peer.Append(e.Data);
        process.ErrorDataReceived += (_, e) => peer.Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {fileName}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    /// <summary>Runs a process to completion within <paramref name="timeout"/> and returns exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, string fileName, params string[] args)
    {
        using var peer = Start(fileName, args);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await peer._process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish within {timeout}. Output:\n{peer.Output}");
        }

        return (peer._process.ExitCode, peer.Output);
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; fails with the peer's output otherwise.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Peer exited ({_process.ExitCode}) while waiting for {what}. Output:\n{Output}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}. Output:\n{Output}");
            }

            await Task.Delay(20);
        }
    }

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

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
