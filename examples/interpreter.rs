//! A small Lisp on the GC heap: cons cells, closures, environments, `set!`,
//! proper tail calls, and cyclic structure.
//!
//! It shows the two kinds of values every client of a tracing GC ends up
//! with: **rooted handles** (`Gc<Obj>`) in the interpreter's Rust stack
//! frames, and **fields** (`Member<Obj>`, `GcVec<Obj>`) inside heap objects.
//! Nothing here is unsafe, and no value is ever freed while a Rust frame or a
//! heap object can reach it.
//!
//! Variable lookup, the hottest read, walks the environment chain inside a
//! pin (`tricolor_gc::pin`): `Member::load`, `GcVec::iter_pinned` and
//! `GcVec::load` hand out unrooted `Ref`s, so comparing names costs no root
//! per element; only the binding found is rooted, to leave the pin.
//!
//! Run: `cargo run --release --example interpreter` (or pass a file of
//! expressions as the first argument).

use tricolor_gc::{pin, Gc, GcVec, Member, Trace};

/// A heap value. Pointer fields are `Member`s; pointer-free data is plain.
#[derive(Trace)]
enum Obj {
    Nil,
    True,
    Int(i64),
    Sym(String),
    Cons { car: Member<Obj>, cdr: Member<Obj> },
    Lambda { params: Member<Obj>, body: Member<Obj>, env: Member<Env> },
    Builtin(&'static str),
}

/// An environment frame: parallel vectors of names and values, and the
/// enclosing frame. `set!` writes through `GcVec::set` (write barrier).
#[derive(Trace)]
struct Env {
    names: GcVec<Obj>,
    values: GcVec<Obj>,
    parent: Member<Env>,
}

type Value = Gc<Obj>;
type Res = Result<Value, String>;

struct Interp {
    nil: Value,
    t: Value,
    global: Gc<Env>,
}

fn sym_name(v: &Obj) -> Option<&str> {
    match v {
        Obj::Sym(s) => Some(s),
        _ => None,
    }
}

impl Interp {
    fn new() -> Interp {
        let global = Gc::new(Env { names: GcVec::new(), values: GcVec::new(), parent: Member::null() });
        let it = Interp { nil: Gc::new(Obj::Nil), t: Gc::new(Obj::True), global };
        for b in ["+", "-", "*", "<", "=", "cons", "car", "cdr", "list", "null?", "display", "set-cdr!", "gc", "eq?"] {
            it.global.names.push(&Gc::new(Obj::Sym(b.into())));
            it.global.values.push(&Gc::new(Obj::Builtin(b)));
        }
        it
    }

    fn cons(&self, car: &Value, cdr: &Value) -> Value {
        Gc::new(Obj::Cons { car: Member::new(car), cdr: Member::new(cdr) })
    }

    fn bool(&self, b: bool) -> Value {
        if b {
            self.t.clone()
        } else {
            self.nil.clone()
        }
    }

    // ---- reader ----

    fn parse_all(&self, src: &str) -> Result<Vec<Value>, String> {
        let spaced = src.replace('(', " ( ").replace(')', " ) ").replace('\'', " ' ");
        let toks: Vec<&str> = spaced.split_whitespace().collect();
        let mut pos = 0;
        let mut out = Vec::new();
        while pos < toks.len() {
            out.push(self.parse(&toks, &mut pos)?);
        }
        Ok(out)
    }

    fn parse(&self, toks: &[&str], pos: &mut usize) -> Res {
        let tok = *toks.get(*pos).ok_or("unexpected end of input")?;
        *pos += 1;
        match tok {
            "(" => {
                let mut items = Vec::new();
                while toks.get(*pos) != Some(&")") {
                    if *pos >= toks.len() {
                        return Err("missing )".into());
                    }
                    items.push(self.parse(toks, pos)?);
                }
                *pos += 1;
                Ok(self.list(&items))
            }
            ")" => Err("unexpected )".into()),
            "'" => {
                let quoted = self.parse(toks, pos)?;
                Ok(self.list(&[Gc::new(Obj::Sym("quote".into())), quoted]))
            }
            _ => Ok(match tok.parse::<i64>() {
                Ok(n) => Gc::new(Obj::Int(n)),
                Err(_) => Gc::new(Obj::Sym(tok.into())),
            }),
        }
    }

    fn list(&self, items: &[Value]) -> Value {
        items.iter().rev().fold(self.nil.clone(), |acc, x| self.cons(x, &acc))
    }

    fn to_vec(&self, mut l: Value) -> Result<Vec<Value>, String> {
        let mut v = Vec::new();
        loop {
            let next = match &*l {
                Obj::Nil => return Ok(v),
                Obj::Cons { car, cdr } => {
                    v.push(car.get().expect("car"));
                    cdr.get().expect("cdr")
                }
                _ => return Err("improper list".into()),
            };
            l = next;
        }
    }

    // ---- environments ----

    /// The frame that binds `name`, searching outwards from `env`, and the
    /// binding's index in it. Pinned: no root per frame or name.
    fn find(&self, name: &str, env: &Gc<Env>) -> Option<(Gc<Env>, usize)> {
        pin(|g| {
            let mut e = Some(env.to_ref(g));
            while let Some(f) = e {
                if let Some(i) = f.names.iter_pinned(g).position(|n| sym_name(&n) == Some(name)) {
                    return Some((f.root(), i));
                }
                e = f.parent.load(g);
            }
            None
        })
    }

    fn lookup(&self, name: &str, env: &Gc<Env>) -> Res {
        pin(|g| {
            let mut e = Some(env.to_ref(g));
            while let Some(f) = e {
                if let Some(i) = f.names.iter_pinned(g).position(|n| sym_name(&n) == Some(name)) {
                    // Only the value leaves the pin, so only it is rooted.
                    return Ok(f.values.load(i, g).expect("binding").root());
                }
                e = f.parent.load(g);
            }
            Err(format!("unbound variable {name}"))
        })
    }

    fn set(&self, name: &str, v: &Value, env: &Gc<Env>) -> Result<(), String> {
        // The search is pinned; the write is not (`GcVec` writers take the
        // vector's lock, which is refused inside a pin).
        let (frame, i) = self.find(name, env).ok_or_else(|| format!("set! of unbound variable {name}"))?;
        // `names` and `values` grow together and are never shortened.
        assert!(frame.values.set(i, v), "binding {i} of {name} out of bounds");
        Ok(())
    }

    // ---- evaluator, with proper tail calls ----

    fn eval(&self, x: &Value, env: &Gc<Env>) -> Res {
        let (mut x, mut env) = (x.clone(), env.clone());
        loop {
            let (car, cdr) = match &*x {
                Obj::Sym(s) => return self.lookup(s, &env),
                Obj::Cons { car, cdr } => (car.get().expect("car"), cdr.get().expect("cdr")),
                _ => return Ok(x),
            };
            let args = self.to_vec(cdr)?;
            match sym_name(&car) {
                Some("quote") => return Ok(args[0].clone()),
                Some("if") => {
                    let c = self.eval(&args[0], &env)?;
                    x = if matches!(*c, Obj::Nil) {
                        args.get(2).cloned().unwrap_or(self.nil.clone())
                    } else {
                        args[1].clone()
                    };
                    continue;
                }
                Some("define") => {
                    let (name, value) = match &*args[0] {
                        // (define (f . params) body...) => lambda
                        Obj::Cons { car, cdr } => {
                            let lambda = Gc::new(Obj::Lambda {
                                params: Member::from(cdr.get().expect("params")),
                                body: Member::from(self.list(&args[1..])),
                                env: Member::new(&env),
                            });
                            (car.get().expect("name"), lambda)
                        }
                        _ => (args[0].clone(), self.eval(&args[1], &env)?),
                    };
                    env.names.push(&name);
                    env.values.push(&value);
                    return Ok(name);
                }
                Some("set!") => {
                    let v = self.eval(&args[1], &env)?;
                    self.set(sym_name(&args[0]).ok_or("set! needs a symbol")?, &v, &env)?;
                    return Ok(v);
                }
                Some("lambda") => {
                    return Ok(Gc::new(Obj::Lambda {
                        params: Member::new(&args[0]),
                        body: Member::from(self.list(&args[1..])),
                        env: Member::new(&env),
                    }))
                }
                Some("begin") => {
                    let Some((last, init)) = args.split_last() else { return Ok(self.nil.clone()) };
                    for e in init {
                        self.eval(e, &env)?;
                    }
                    x = last.clone();
                    continue;
                }
                Some("let") => {
                    // (let ((n v) ...) body...) => ((lambda (n ...) body...) v ...)
                    let binds = self.to_vec(args[0].clone())?;
                    let frame = Gc::new(Env { names: GcVec::new(), values: GcVec::new(), parent: Member::new(&env) });
                    for b in binds {
                        let b = self.to_vec(b)?;
                        let v = self.eval(&b[1], &env)?;
                        frame.names.push(&b[0]);
                        frame.values.push(&v);
                    }
                    env = frame;
                    x = self.cons(&Gc::new(Obj::Sym("begin".into())), &self.list(&args[1..]));
                    continue;
                }
                _ => {}
            }
            let f = self.eval(&car, &env)?;
            let vals = args.iter().map(|a| self.eval(a, &env)).collect::<Result<Vec<_>, _>>()?;
            match &*f {
                Obj::Builtin(name) => return self.builtin(name, &vals),
                Obj::Lambda { params, body, env: closure_env } => {
                    let frame = Gc::new(Env {
                        names: self.to_vec(params.get().expect("params"))?.into_iter().collect(),
                        values: vals.into_iter().collect(),
                        parent: Member::from(closure_env.get().expect("env")),
                    });
                    env = frame;
                    x = self.cons(&Gc::new(Obj::Sym("begin".into())), &body.get().expect("body"));
                }
                _ => return Err("not a procedure".into()),
            }
        }
    }

    fn int(v: &Value) -> Result<i64, String> {
        match **v {
            Obj::Int(n) => Ok(n),
            _ => Err(format!("not a number: {}", show(v))),
        }
    }

    fn builtin(&self, name: &str, a: &[Value]) -> Res {
        Ok(match name {
            "+" => Gc::new(Obj::Int(a.iter().map(Self::int).sum::<Result<i64, _>>()?)),
            "*" => Gc::new(Obj::Int(a.iter().map(Self::int).product::<Result<i64, _>>()?)),
            "-" => Gc::new(Obj::Int(Self::int(&a[0])? - Self::int(&a[1])?)),
            "<" => self.bool(Self::int(&a[0])? < Self::int(&a[1])?),
            "=" => self.bool(Self::int(&a[0])? == Self::int(&a[1])?),
            "eq?" => self.bool(Gc::ptr_eq(&a[0], &a[1])),
            "cons" => self.cons(&a[0], &a[1]),
            "car" | "cdr" => match &*a[0] {
                Obj::Cons { car, cdr } => if name == "car" { car } else { cdr }.get().expect("field"),
                _ => return Err(format!("{name} of a non-pair")),
            },
            "set-cdr!" => match &*a[0] {
                Obj::Cons { cdr, .. } => {
                    cdr.set(&a[1]);
                    self.nil.clone()
                }
                _ => return Err("set-cdr! of a non-pair".into()),
            },
            "list" => self.list(a),
            "null?" => self.bool(matches!(*a[0], Obj::Nil)),
            "display" => {
                println!("{}", show(&a[0]));
                self.nil.clone()
            }
            "gc" => {
                tricolor_gc::collect();
                self.nil.clone()
            }
            _ => return Err(format!("unknown builtin {name}")),
        })
    }
}

/// Prints a value; stops after 20 elements so cyclic lists print finitely.
fn show(v: &Value) -> String {
    match &**v {
        Obj::Nil => "()".into(),
        Obj::True => "#t".into(),
        Obj::Int(n) => n.to_string(),
        Obj::Sym(s) => s.clone(),
        Obj::Lambda { .. } => "#<lambda>".into(),
        Obj::Builtin(n) => format!("#<builtin {n}>"),
        Obj::Cons { .. } => {
            let mut parts = Vec::new();
            let mut cur = v.clone();
            while let Obj::Cons { car, cdr } = &*cur {
                if parts.len() == 20 {
                    parts.push("...".to_string());
                    break;
                }
                parts.push(show(&car.get().expect("car")));
                let next = cdr.get().expect("cdr");
                cur = next;
            }
            format!("({})", parts.join(" "))
        }
    }
}

const PROGRAM: &str = r#"
(define (fact n) (if (< n 2) 1 (* n (fact (- n 1)))))
(display (fact 20))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(display (fib 20))
(define (make-counter) (let ((n 0)) (lambda () (set! n (+ n 1)) n)))
(define c (make-counter))
(c) (c)
(display (c))
(define (range a b) (if (= a b) '() (cons a (range (+ a 1) b))))
(define (map f xs) (if (null? xs) '() (cons (f (car xs)) (map f (cdr xs)))))
(define (sum xs) (if (null? xs) 0 (+ (car xs) (sum (cdr xs)))))
(display (sum (map (lambda (x) (* x x)) (range 0 100))))
(define (loop i acc) (if (= i 0) acc (loop (- i 1) (+ acc 1))))
(display (loop 100000 0))
(define ring (list 1 2 3))
(set-cdr! (cdr (cdr ring)) ring)
(display ring)
(set! ring 0)
(gc)
(display (map (lambda (x) (* x 10)) (list 1 2 3)))
"#;

fn main() {
    let src = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}")),
        None => PROGRAM.to_string(),
    };
    let it = Interp::new();
    let forms = it.parse_all(&src).unwrap_or_else(|e| panic!("parse error: {e}"));
    for f in &forms {
        if let Err(e) = it.eval(f, &it.global) {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
    drop(forms);
    tricolor_gc::collect();
    let s = tricolor_gc::mem_stats();
    println!(
        "heap: {} cycles, {} objects allocated, {} freed, {} live, {} KiB marked live, max pause {:?}",
        s.num_gc,
        s.mallocs,
        s.frees,
        s.heap_objects,
        s.heap_marked >> 10,
        s.pause_max
    );
}
