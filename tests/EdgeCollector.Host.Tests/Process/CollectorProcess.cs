using System.Diagnostics;

namespace EdgeCollector.Host.Tests.Process;

/// <summary>Runs the real <c>edgecollector</c> program as a child process (killed on dispose).</summary>
internal sealed class CollectorProcess : IDisposable
{
    private readonly System.Diagnostics.Process _process;
    private readonly System.Text.StringBuilder _stdout = new();
    private readonly System.Text.StringBuilder _stderr = new();

    private CollectorProcess(System.Diagnostics.Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The built host assembly, next to the tests (the project references it).</summary>
    public static string HostDll { get; } = Path.Combine(AppContext.BaseDirectory, "edgecollector.dll");

    public static CollectorProcess Start(string workingDirectory, params string[] args) => Start(workingDirectory, null, args);

    public static CollectorProcess Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }

        psi.ArgumentList.Add(HostDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (args is ["run", ..] && !args.Any(a => a.StartsWith("Dashboard:Urls=", StringComparison.Ordinal)))
        {
            // Several collectors run side by side in tests: each takes a free port for its endpoints.
            psi.ArgumentList.Add("--set");
            psi.ArgumentList.Add("Dashboard:Urls=http://127.0.0.1:0");
        }

        return new CollectorProcess(System.Diagnostics.Process.Start(psi)!);
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workingDirectory, params string[] args)
    {
        using var p = Start(workingDirectory, args);
        int code = await p.WaitAsync(TimeSpan.FromMinutes(2));
        return (code, p.Stdout, p.Stderr);
    }

    /// <summary>Writes the shipped demo config without the named top-level sections (e.g. "Uplink": JSONL sink instead of MQTT).</summary>
    public static string DemoConfigWithout(string directory, params string[] sections)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(RepoRoot, "config", "demo.json")), documentOptions: new System.Text.Json.JsonDocumentOptions
        {
            CommentHandling = System.Text.Json.JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        })!.AsObject();
        foreach (var section in sections)
        {
            node.Remove(section);
        }

        string path = Path.Combine(directory, "demo-without-" + string.Join("-", sections).ToLowerInvariant() + ".json");
        File.WriteAllText(path, node.ToJsonString());
        return path;
    }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public bool HasExited => _process.HasExited;

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as systemd stops a service; waits for the exit (then kills after <paramref name="timeout"/>).</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using var term = System.Diagnostics.Process.Start("/bin/kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
        }

        try
        {
            return await WaitAsync(timeout);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException("the collector did not stop on SIGTERM within " + timeout);
        }
    }

    /// <summary>SIGKILL: no graceful stop, no flush — what a power cut or OOM kill does.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeCollector.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("EdgeCollector.sln not found above " + AppContext.BaseDirectory);
    }
}
