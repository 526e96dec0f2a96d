// Shared helpers for the Java peers of the tricolor-gc cross-system benchmarks.
//
// GC pauses: run the JVM with -Xlog:safepoint:file=<path> and -Dpause.log=<path>;
// at the end the program reads that log and takes every safepoint whose VM
// operation is a GC operation (G1*, Parallel*, Z*, *GC*, *Collect*) as one
// pause of "Total" ns (time to reach the safepoint + time at it). Without the
// property the pause fields are n/a.
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

final class Common {
    private Common() {}

    static int intArg(String[] args, int i, int def) {
        return args.length > i ? Integer.parseInt(args[i]) : def;
    }

    static String system() {
        String s = System.getProperty("system");
        if (s != null) return s;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            String n = gc.getName();
            if (n.startsWith("G1")) return "java-g1";
            if (n.startsWith("PS ")) return "java-parallel";
            if (n.startsWith("ZGC")) return "java-zgc";
        }
        return "java";
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "n/a" : String.format("%.3f", v);
    }

    /** {max, p99} in microseconds of values given in ns. */
    static double[] stats(long[] ns, int n) {
        if (n == 0) return new double[] {Double.NaN, Double.NaN};
        long[] s = Arrays.copyOf(ns, n);
        Arrays.sort(s);
        int idx = (int) Math.ceil(0.99 * n) - 1;
        return new double[] {s[n - 1] / 1e3, s[idx] / 1e3};
    }

    private static final Pattern SAFEPOINT =
            Pattern.compile("Safepoint \"([A-Za-z0-9_]+)\".*Total: (\\d+) ns");

    /** GC safepoint pauses in ns from the -Xlog:safepoint file, or null. */
    static long[] gcPauses() {
        String path = System.getProperty("pause.log");
        if (path == null) return null;
        List<Long> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Paths.get(path))) {
                Matcher m = SAFEPOINT.matcher(line);
                if (!m.find()) continue;
                String op = m.group(1);
                if (op.startsWith("G1") || op.startsWith("Parallel") || op.startsWith("Z")
                        || op.contains("GC") || op.contains("Collect")) {
                    out.add(Long.parseLong(m.group(2)));
                }
            }
        } catch (IOException e) {
            return null;
        }
        long[] a = new long[out.size()];
        for (int i = 0; i < a.length; i++) a[i] = out.get(i);
        return a;
    }

    static void result(String workload, long startNs, String extra) {
        double wallMs = (System.nanoTime() - startNs) / 1e6;
        long[] p = gcPauses();
        String pause;
        if (p == null) {
            pause = "max_pause_us=n/a p99_pause_us=n/a";
        } else {
            double[] st = p.length == 0 ? new double[] {0, 0} : stats(p, p.length);
            pause = "max_pause_us=" + fmt(st[0]) + " p99_pause_us=" + fmt(st[1]) + " gc_pauses=" + p.length;
        }
        System.out.println("RESULT system=" + system() + " workload=" + workload + " wall_ms="
                + fmt(wallMs) + " " + pause + extra);
        System.out.flush();
    }

    static final class Node {
        Node left, right;
        Node(Node l, Node r) { left = l; right = r; }
    }

    static Node bottomUp(int depth) {
        return depth <= 0 ? new Node(null, null) : new Node(bottomUp(depth - 1), bottomUp(depth - 1));
    }

    static int check(Node n) {
        return n.left == null ? 1 : 1 + check(n.left) + check(n.right);
    }
}
