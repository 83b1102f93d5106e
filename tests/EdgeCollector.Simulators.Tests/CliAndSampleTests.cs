namespace EdgeCollector.Simulators.Tests;

/// <summary>The command line and the shipped sample (config/sample-shift.jsonl and its truth).</summary>
public class CliAndSampleTests
{
    private static SampleShift S => SampleShift.Instance;

    [Fact]
    public void Generate_writes_the_recording_and_the_truth_of_the_seed()
    {
        string dir = Directory.CreateTempSubdirectory("edgecollector-sim-").FullName;
        try
        {
            string output = Path.Combine(dir, "recording.jsonl"), truth = Path.Combine(dir, "truth.jsonl");
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int code = SimCli.Run(
                ["generate", "--seed", "1", "--furnaces", "2", "--hours", "8", "--start", "2026-11-20T00:00:00Z", "--out", output, "--truth", truth],
                stdout, stderr);
            Assert.True(code == 0, stderr.ToString());
            Assert.Equal(S.RecordingBytes, File.ReadAllBytes(output));
            Assert.Equal(S.TruthBytes, File.ReadAllBytes(truth));
            Assert.Contains("6 closed heats", stdout.ToString(), StringComparison.Ordinal);
            Assert.Equal([output, truth], Directory.GetFiles(dir).Order());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_truth_file_name_defaults_to_the_recording_name()
    {
        string dir = Directory.CreateTempSubdirectory("edgecollector-sim-").FullName;
        try
        {
            int code = SimCli.Run(["generate", "--hours", "1", "--out", Path.Combine(dir, "one.jsonl")], TextWriter.Null, TextWriter.Null);
            Assert.Equal(0, code);
            Assert.True(File.Exists(Path.Combine(dir, "one.truth.jsonl")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("generate", "--seed")]
    [InlineData("generate", "--seed", "x")]
    [InlineData("generate", "--furnaces", "0")]
    [InlineData("generate", "--start", "2026-11-20T00:00:00")]
    [InlineData("generate", "--time-zone", "Mars/Olympus")]
    [InlineData("generate", "--bogus", "1")]
    [InlineData("explode")]
    [InlineData]
    public void Bad_arguments_exit_2_with_a_message(params string[] args)
    {
        var stderr = new StringWriter();
        var stdout = new StringWriter();
        Assert.Equal(2, SimCli.Run(args, stdout, stderr));
        Assert.Contains("usage:", stderr.ToString() + stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_shipped_sample_is_seed_1_and_its_truth()
    {
        string config = Path.Combine(RepoRoot(), "config");
        Assert.Equal(S.RecordingBytes, File.ReadAllBytes(Path.Combine(config, "sample-shift.jsonl")));
        Assert.Equal(S.TruthBytes, File.ReadAllBytes(Path.Combine(config, "sample-shift.truth.jsonl")));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("no Directory.Packages.props above " + AppContext.BaseDirectory);
    }
}
