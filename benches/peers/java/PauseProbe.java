// Pause probe (see benches/README.md). Usage: PauseProbe [liveDepth=20] [iters=500000]
public final class PauseProbe {
    public static void main(String[] args) {
        int liveDepth = Common.intArg(args, 0, 20), iters = Common.intArg(args, 1, 500000);
        final int churnDepth = 6;
        long start = System.nanoTime();
        int nslots = 1 << (liveDepth - churnDepth);
        Common.Node[] slots = new Common.Node[nslots];
        for (int i = 0; i < nslots; i++) slots[i] = Common.bottomUp(churnDepth);
        long[] gaps = new long[iters];
        long check = 0;
        long prev = System.nanoTime();
        for (int i = 0; i < iters; i++) {
            Common.Node t = Common.bottomUp(churnDepth);
            check += Common.check(t);
            if (i % 4 == 0) slots[(i / 4) % nslots] = t;
            long now = System.nanoTime();
            gaps[i] = now - prev;
            prev = now;
        }
        long live = 0;
        for (Common.Node s : slots) live += Common.check(s);
        System.out.println("live nodes " + live + ", iterations " + iters + ", check " + check);
        double[] g = Common.stats(gaps, iters);
        Common.result("pauseprobe", start, " max_gap_us=" + Common.fmt(g[0]) + " p99_gap_us=" + Common.fmt(g[1]));
    }
}
