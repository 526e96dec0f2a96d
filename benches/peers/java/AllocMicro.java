// Alloc micro (see benches/README.md): long[2], long[8], long[32] (16, 64, 256
// bytes of payload). Usage: AllocMicro [n=10000000]
public final class AllocMicro {
    static final Object[] ring = new Object[1024];

    static double bench(int n, int longs) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long[] p = new long[longs];
            p[0] = i;
            ring[i & 1023] = p;
        }
        return (System.nanoTime() - t0) / (double) n;
    }

    public static void main(String[] args) {
        int n = Common.intArg(args, 0, 10000000);
        long start = System.nanoTime();
        double a = bench(n, 2), b = bench(n, 8), c = bench(n, 32);
        long s = 0;
        for (Object o : ring) s += ((long[]) o)[0];
        System.out.println("n " + n + ", check " + s);
        System.out.printf("16B %.2f ns/alloc, 64B %.2f ns/alloc, 256B %.2f ns/alloc%n", a, b, c);
        Common.result("allocmicro", start, " ns_per_alloc_16=" + Common.fmt(a) + " ns_per_alloc_64="
                + Common.fmt(b) + " ns_per_alloc_256=" + Common.fmt(c));
    }
}
