using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace TinyGrad.Backends.Cpu;

/// <summary>One unit of parallel work: <see cref="Execute"/> is called once for every index in [0, count).</summary>
/// <remarks>Implement this on a reusable object to run a parallel loop without allocating a closure per call.</remarks>
internal interface IParallelWork
{
    /// <summary>Runs item <paramref name="index"/>. May run on any pool thread, concurrently with other items.</summary>
    void Execute(int index);
}

/// <summary>
/// A persistent fork-join pool for the CPU kernels: the worker threads are created once and reused, and
/// the calling thread always works too, so <c>CpuThreads.Count = N</c> means the caller plus N - 1 workers.
/// </summary>
/// <remarks>
/// <para>Why not <c>Parallel.For</c> or a <c>Task</c> per call: a GEMM step of an LSTM takes tens of
/// microseconds, and queueing tasks to the shared .NET pool (and waiting for them) costs about as much,
/// with no control over how many threads join. Here a call publishes one job, wakes the workers it needs,
/// and every participant claims indices with an atomic increment (dynamic load balancing, which helps on
/// a noisy shared machine). The caller waits for the last item, then returns.</para>
/// <para>Idle workers spin for a short while (<see cref="SpinMicroseconds"/>) before blocking on a semaphore,
/// so back-to-back calls (the 35 steps of an LSTM) find them awake; longer gaps let them sleep and free the core.</para>
/// <para>Nested calls (from inside an item) and calls made while another thread owns the pool run serially
/// on the calling thread: never a deadlock, never oversubscription.</para>
/// </remarks>
internal static class CpuThreadPool
{
    /// <summary>
    /// How long an idle worker (and a waiting caller) spins before blocking, in microseconds. Measured on the
    /// 2-vCPU VM: a spinning worker picks up a job in ~0.5 µs, a blocked one in ~30 µs (median) but with a tail
    /// of milliseconds when the idle vCPU has to be rescheduled by the host; 1 ms of spinning covers the gaps
    /// between the kernels of a training step while costing nothing noticeable once the work stops.
    /// </summary>
    internal static int SpinMicroseconds = 1000;

    private sealed class Job
    {
        public IParallelWork? Work;
        public Action<int>? Body;
        public int Count;
        public int MaxWorkers;
        public int Next;          // next unclaimed index (claimed with Interlocked.Increment)
        public int Done;          // completed items
        public int CallerParked;  // 1 while the caller sleeps on s_callerWake
        public Exception? Error;
    }

    private sealed class Worker
    {
        public int Id;
        public int Parked;        // 1 while the worker sleeps (or is about to) on Wake
        public readonly SemaphoreSlim Wake = new(0);
    }

    private static readonly object s_dispatchLock = new();
    private static readonly SemaphoreSlim s_callerWake = new(0);
    private static Worker[] s_workers = [];
    private static Job? s_job; // the current job; a new object per call, so late workers can never run a stale index

    [ThreadStatic] private static bool t_busy; // set on workers, and on a caller while it runs items

    /// <summary>Number of worker threads created so far (the pool never shrinks).</summary>
    internal static int WorkerCount => Volatile.Read(ref s_workers).Length;

    /// <summary>Runs <paramref name="body"/>(i) for i in [0, count) on up to <c>CpuThreads.Count</c> threads.</summary>
    internal static void ParallelFor(int count, Action<int> body) => Run(count, null, body, CpuThreads.Count);

    /// <summary>Runs <paramref name="work"/>.Execute(i) for i in [0, count) on up to <c>CpuThreads.Count</c> threads, without allocating a closure.</summary>
    internal static void ParallelFor(int count, IParallelWork work) => Run(count, work, null, CpuThreads.Count);

    /// <summary>Runs <paramref name="work"/>.Execute(i) for i in [0, count) on up to <paramref name="maxThreads"/> threads.</summary>
    internal static void ParallelFor(int count, IParallelWork work, int maxThreads) => Run(count, work, null, maxThreads);

    private static void Run(int count, IParallelWork? work, Action<int>? body, int maxThreads)
    {
        if (count <= 0) return;
        int threads = Math.Min(maxThreads, count);
        if (threads <= 1 || t_busy || !Monitor.TryEnter(s_dispatchLock))
        {
            for (int i = 0; i < count; i++) Invoke(work, body, i);
            return;
        }
        try
        {
            Worker[] workers = EnsureWorkers(threads - 1);
            var job = new Job { Work = work, Body = body, Count = count, MaxWorkers = threads - 1 };
            Interlocked.Exchange(ref s_job, job); // full fence: publish before reading the Parked flags
            for (int w = 0; w < threads - 1; w++)
            {
                if (Interlocked.Exchange(ref workers[w].Parked, 0) == 1) workers[w].Wake.Release();
            }
            t_busy = true;
            try { RunItems(job); }
            finally { t_busy = false; }
            WaitForCompletion(job);
            Volatile.Write(ref s_job, null); // drop references to the caller's data
            if (job.Error is not null) ExceptionDispatchInfo.Capture(job.Error).Throw();
        }
        finally
        {
            Monitor.Exit(s_dispatchLock);
        }
    }

    private static void Invoke(IParallelWork? work, Action<int>? body, int i)
    {
        if (work is not null) work.Execute(i);
        else body!(i);
    }

    private static void RunItems(Job job)
    {
        while (true)
        {
            int i = Interlocked.Increment(ref job.Next) - 1;
            if (i >= job.Count) return;
            try { Invoke(job.Work, job.Body, i); }
            catch (Exception e) { Interlocked.CompareExchange(ref job.Error, e, null); }
            if (Interlocked.Increment(ref job.Done) == job.Count && Interlocked.Exchange(ref job.CallerParked, 0) == 1)
            {
                s_callerWake.Release();
            }
        }
    }

    private static void WaitForCompletion(Job job)
    {
        long deadline = Stopwatch.GetTimestamp() + SpinTicks();
        while (Volatile.Read(ref job.Done) < job.Count)
        {
            if (Stopwatch.GetTimestamp() < deadline) { Thread.SpinWait(20); continue; }
            // Park. Whoever completes the last item sees CallerParked == 1 and releases us exactly once;
            // if the last item finished while we were parking, take the flag back instead of sleeping.
            Interlocked.Exchange(ref job.CallerParked, 1);
            if (Volatile.Read(ref job.Done) < job.Count || Interlocked.Exchange(ref job.CallerParked, 0) == 0)
            {
                s_callerWake.Wait();
            }
            return;
        }
    }

    private static long SpinTicks() => Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    private static Worker[] EnsureWorkers(int needed)
    {
        Worker[] current = s_workers;
        if (current.Length >= needed) return current;
        var grown = new Worker[needed];
        Array.Copy(current, grown, current.Length);
        for (int i = current.Length; i < needed; i++)
        {
            var worker = new Worker { Id = i };
            grown[i] = worker;
            var thread = new Thread(() => WorkerLoop(worker))
            {
                IsBackground = true,
                Name = $"TinyGrad CPU worker {i + 1}",
            };
            thread.Start();
        }
        Volatile.Write(ref s_workers, grown);
        return grown;
    }

    private static void WorkerLoop(Worker self)
    {
        t_busy = true; // kernels called from inside an item run serially
        Job? last = null;
        while (true)
        {
            Job? job = Volatile.Read(ref s_job);
            if (job is null || job == last)
            {
                long deadline = Stopwatch.GetTimestamp() + SpinTicks();
                while (((job = Volatile.Read(ref s_job)) is null || job == last) && Stopwatch.GetTimestamp() < deadline)
                {
                    Thread.SpinWait(20);
                }
                if (job is null || job == last)
                {
                    // Park: announce it, then re-check so a job published in between is not missed.
                    Interlocked.Exchange(ref self.Parked, 1);
                    job = Volatile.Read(ref s_job);
                    if (job is null || job == last || Interlocked.Exchange(ref self.Parked, 0) == 0)
                    {
                        self.Wake.Wait(); // a dispatcher cleared Parked and owes us exactly one Release
                    }
                    continue;
                }
            }
            last = job;
            if (self.Id < job.MaxWorkers) RunItems(job);
        }
    }
}
