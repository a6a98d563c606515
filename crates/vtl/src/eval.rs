//! The renderer: walks the syntax tree against a request and writes the output.

use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::ast::{BinaryOp, Block, Expr, ExprKind, Node, Reference, Segment, SetTarget, Slot};
use crate::cursor::Pos;
use crate::error::TemplateError;
use crate::input::{self, Input};
use crate::javaregex::RegexCache;
use crate::methods;
use crate::operators;
use crate::request::Request;
use crate::util;
use crate::value::{LoopState, Object, Value};

/// API Gateway's quota on iterations of one `#foreach`. Exceeding it is reported as an error
/// so that a template that would be cut short or rejected in AWS fails visibly here.
pub(crate) const MAX_FOREACH_ITERATIONS: usize = 1000;

/// Ranges larger than this are refused rather than materialised.
const MAX_RANGE_LEN: u64 = 100_000;

/// Renders a parsed template.
pub(crate) fn render(block: &Block, request: &Request) -> Result<String, TemplateError> {
    let mut renderer = Renderer::new(request);
    let mut out = String::with_capacity(request.body.len() + 256);
    // `#break` outside a loop and `#stop` both just end the output.
    renderer.block(block, &mut out)?;
    Ok(out)
}

/// How a block finished.
enum Flow {
    Normal,
    Break,
    Stop,
}

struct Renderer<'r> {
    input: Input<'r>,
    /// Velocity has one flat variable scope per render; `#foreach` saves and restores only
    /// its loop variable, `$foreach` and `$velocityCount`.
    vars: HashMap<String, Value>,
    regexes: RegexCache,
}

impl<'r> Renderer<'r> {
    fn new(request: &'r Request) -> Self {
        let mut vars = HashMap::new();
        vars.insert("input".to_owned(), Value::Object(Object::Input));
        vars.insert("util".to_owned(), Value::Object(Object::Util));
        vars.insert("context".to_owned(), input::context_value(&request.context));
        vars.insert(
            "stageVariables".to_owned(),
            input::pairs_to_map(&request.stage_variables),
        );
        Renderer {
            input: Input::new(request),
            vars,
            regexes: RegexCache::default(),
        }
    }

    fn block(&mut self, block: &[Node], out: &mut String) -> Result<Flow, TemplateError> {
        for node in block {
            let flow = match node {
                Node::Text(text) => {
                    out.push_str(text);
                    Flow::Normal
                }
                Node::Reference(reference) => {
                    self.reference(reference)?.render(out);
                    Flow::Normal
                }
                Node::Set { target, value } => {
                    self.set(target, value)?;
                    Flow::Normal
                }
                Node::If { branches, otherwise } => {
                    let mut chosen = otherwise.as_deref();
                    for branch in branches {
                        if self.expr(&branch.condition)?.is_truthy() {
                            chosen = Some(&branch.body);
                            break;
                        }
                    }
                    match chosen {
                        Some(body) => self.block(body, out)?,
                        None => Flow::Normal,
                    }
                }
                Node::Foreach {
                    variable,
                    iterable,
                    body,
                    pos,
                } => self.foreach(variable, iterable, body, *pos, out)?,
                Node::Break => Flow::Break,
                Node::Stop => Flow::Stop,
            };
            if !matches!(flow, Flow::Normal) {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn foreach(
        &mut self,
        variable: &str,
        iterable: &Expr,
        body: &[Node],
        pos: Pos,
        out: &mut String,
    ) -> Result<Flow, TemplateError> {
        // Iterate over a snapshot, so the body may modify the collection.
        let items: Vec<Value> = match self.expr(iterable)? {
            Value::List(list) => list.borrow().clone(),
            // Velocity iterates over a map's values.
            Value::Map(map) => map.borrow().values().cloned().collect(),
            // Null and scalars are not iterable: Velocity renders the loop zero times.
            _ => Vec::new(),
        };
        if items.len() > MAX_FOREACH_ITERATIONS {
            return Err(TemplateError::at(
                pos,
                format!(
                    "`#foreach` over {} items exceeds API Gateway's limit of {} iterations",
                    items.len(),
                    MAX_FOREACH_ITERATIONS
                ),
            ));
        }
        let saved_item = self.vars.remove(variable);
        let saved_foreach = self.vars.remove("foreach");
        let saved_count = self.vars.remove("velocityCount");
        let parent = saved_foreach.clone().unwrap_or(Value::Null);
        let len = items.len();
        let mut flow = Flow::Normal;
        for (index, item) in items.into_iter().enumerate() {
            self.assign(variable, item);
            let state = LoopState {
                index,
                len,
                parent: parent.clone(),
            };
            self.assign("foreach", Value::Object(Object::Foreach(Rc::new(state))));
            self.assign("velocityCount", Value::Int(index as i64 + 1));
            match self.block(body, out)? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
        }
        self.restore(variable, saved_item);
        self.restore("foreach", saved_foreach);
        self.restore("velocityCount", saved_count);
        Ok(flow)
    }

    /// Sets a variable, reusing its key allocation when it already exists.
    fn assign(&mut self, name: &str, value: Value) {
        match self.vars.get_mut(name) {
            Some(slot) => *slot = value,
            None => {
                self.vars.insert(name.to_owned(), value);
            }
        }
    }

    fn restore(&mut self, name: &str, saved: Option<Value>) {
        match saved {
            Some(value) => self.assign(name, value),
            None => {
                self.vars.remove(name);
            }
        }
    }

    fn set(&mut self, target: &SetTarget, value: &Expr) -> Result<(), TemplateError> {
        let value = self.expr(value)?;
        // Velocity 1.7: `#set` with a null right-hand side leaves the target unchanged.
        if value.is_null() {
            return Ok(());
        }
        let Some(slot) = &target.slot else {
            self.assign(&target.name, value);
            return Ok(());
        };
        let container = self.resolve(&target.name, &target.path)?;
        match slot {
            Slot::Property { name, pos } => {
                methods::set_property(&container, name, value).map_err(|m| TemplateError::at(*pos, m))
            }
            Slot::Index { key, pos } => {
                let key = self.expr(key)?;
                methods::set_index(&container, &key, value).map_err(|m| TemplateError::at(*pos, m))
            }
        }
    }

    fn reference(&mut self, reference: &Reference) -> Result<Value, TemplateError> {
        self.resolve(&reference.name, &reference.segments)
    }

    /// Evaluates `$name` followed by `segments`. Anything applied to null is null.
    fn resolve(&mut self, name: &str, segments: &[Segment]) -> Result<Value, TemplateError> {
        let mut value = self.vars.get(name).cloned().unwrap_or(Value::Null);
        for segment in segments {
            if value.is_null() {
                return Ok(Value::Null);
            }
            value = match segment {
                Segment::Property { name, .. } => match &value {
                    Value::Object(Object::Input) => self.input.property(name),
                    _ => methods::property(&value, name),
                },
                Segment::Method { name, args, pos } => {
                    let args = args
                        .iter()
                        .map(|arg| self.expr(arg))
                        .collect::<Result<Vec<_>, _>>()?;
                    self.call(&value, name, &args)
                        .map_err(|m| TemplateError::at(*pos, m))?
                }
                Segment::Index { key, pos } => {
                    let key = self.expr(key)?;
                    methods::index(&value, &key).map_err(|m| TemplateError::at(*pos, m))?
                }
            };
        }
        Ok(value)
    }

    fn call(&mut self, receiver: &Value, name: &str, args: &[Value]) -> Result<Value, String> {
        match receiver {
            Value::Object(Object::Input) => self.input.call(name, args),
            Value::Object(Object::Util) => util::call(name, args),
            _ => methods::call(receiver, name, args, &mut self.regexes),
        }
    }

    fn expr(&mut self, expr: &Expr) -> Result<Value, TemplateError> {
        let at = |message: String| TemplateError::at(expr.pos, message);
        Ok(match &expr.kind {
            ExprKind::Null => Value::Null,
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Str(s) => Value::string(s.as_str()),
            ExprKind::Interpolated(block) => {
                let mut text = String::new();
                self.block(block, &mut text)?;
                Value::string(text)
            }
            ExprKind::List(items) => Value::list(
                items
                    .iter()
                    .map(|item| self.expr(item))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::Range(from, to) => {
                let from_value = self.expr(from)?;
                let to_value = self.expr(to)?;
                range(&from_value, &to_value).map_err(at)?
            }
            ExprKind::Map(entries) => {
                let mut map = IndexMap::with_capacity(entries.len());
                for (key, value) in entries {
                    let key_value = self.expr(key)?;
                    let key_text = methods::map_key(&key_value).map_err(|m| TemplateError::at(key.pos, m))?;
                    map.insert(key_text, self.expr(value)?);
                }
                Value::map(map)
            }
            ExprKind::Reference(reference) => self.reference(reference)?,
            ExprKind::Not(operand) => Value::Bool(!self.expr(operand)?.is_truthy()),
            ExprKind::Negate(operand) => operators::negate(&self.expr(operand)?).map_err(at)?,
            ExprKind::Binary {
                op: BinaryOp::And,
                left,
                right,
            } => Value::Bool(self.expr(left)?.is_truthy() && self.expr(right)?.is_truthy()),
            ExprKind::Binary {
                op: BinaryOp::Or,
                left,
                right,
            } => Value::Bool(self.expr(left)?.is_truthy() || self.expr(right)?.is_truthy()),
            ExprKind::Binary { op, left, right } => {
                let left = self.expr(left)?;
                let right = self.expr(right)?;
                operators::binary(*op, &left, &right).map_err(at)?
            }
        })
    }
}

/// `[from..to]`: inclusive, counting down when `from > to`.
fn range(from: &Value, to: &Value) -> Result<Value, String> {
    let (Value::Int(from), Value::Int(to)) = (from, to) else {
        return Err(format!(
            "range bounds must be Integers, got {} and {}",
            from.describe(),
            to.describe()
        ));
    };
    let (from, to) = (*from, *to);
    if from.abs_diff(to) >= MAX_RANGE_LEN {
        return Err(format!(
            "range [{from}..{to}] is larger than {MAX_RANGE_LEN} elements"
        ));
    }
    let items: Vec<Value> = if from <= to {
        (from..=to).map(Value::Int).collect()
    } else {
        (to..=from).rev().map(Value::Int).collect()
    };
    Ok(Value::list(items))
}

#[cfg(test)]
mod tests {
    use crate::{Request, TemplateError, render};

    fn with_body(body: &str) -> Request {
        Request {
            body: body.to_owned(),
            ..Request::default()
        }
    }

    fn ok(source: &str) -> String {
        ok_with(source, &Request::default())
    }

    fn ok_with(source: &str, request: &Request) -> String {
        match render(source, request) {
            Ok(out) => out,
            Err(err) => panic!("{source:?}: {err}"),
        }
    }

    fn err(source: &str) -> TemplateError {
        err_with(source, &Request::default())
    }

    fn err_with(source: &str, request: &Request) -> TemplateError {
        match render(source, request) {
            Ok(out) => panic!("{source:?} rendered {out:?}"),
            Err(err) => err,
        }
    }

    #[test]
    fn undefined_and_null_references_render_empty() {
        assert_eq!(ok("[$x][$!x][${x}][$!{x}][$x.y.z()]"), "[][][][][]");
        assert_eq!(ok("#set($n = $util.qr(1))[$n]"), "[]");
    }

    #[test]
    fn set_and_reference() {
        assert_eq!(ok("#set($x = 'a')$x ${x}b $x.length()"), "a ab 1");
    }

    #[test]
    fn set_with_null_keeps_the_old_value() {
        assert_eq!(ok("#set($x = 1)#set($x = $nothing)$x"), "1");
    }

    #[test]
    fn set_into_maps_and_lists() {
        assert_eq!(
            ok("#set($m = {})#set($m.a = 1)#set($m['b'] = [0])#set($m.b[0] = 2)$m"),
            "{a=1, b=[2]}"
        );
        assert_eq!(ok("#set($none.a = 1)ok"), "ok");
        let e = err("#set($s = 'x')\n#set($s.a = 1)");
        assert_eq!(
            (e.line, e.column, e.message.as_str()),
            (2, 9, "cannot set property `a` on a String")
        );
    }

    #[test]
    fn lists_are_shared() {
        assert_eq!(
            ok("#set($a = [1])#set($b = $a)#set($d = $b.add(2))$a $d"),
            "[1, 2] true"
        );
        assert_eq!(ok("#set($a = [])$a.add(1)$a.size()"), "true1");
    }

    #[test]
    fn string_interpolation() {
        assert_eq!(
            ok(r#"#set($n = 'W')#set($m = {'k': 'v'})#set($s = "Hi $n ${m.k} $!missing")$s"#),
            "Hi W v "
        );
        assert_eq!(ok(r#"#set($s = "a""b")$s"#), r#"a"b"#);
        assert_eq!(ok(r#"#set($s = "\$n")$s"#), "$n");
    }

    #[test]
    fn if_elseif_else() {
        let source = "#foreach($i in [1..4])#if($i == 1)one#elseif($i < 3)two#elseif($i == 3)three#{else}many#end,#end";
        assert_eq!(ok(source), "one,two,three,many,");
    }

    #[test]
    fn truthiness_in_conditions() {
        assert_eq!(
            ok("#if('')a#end#if(0)b#end#if($none)c#end#if(!$none)d#end"),
            "abd"
        );
        assert_eq!(ok("#if(false || $x)a#elseif(true && 'x')b#end"), "b");
        assert_eq!(ok("#if(not false and 1 lt 2 and 2 ge 2)y#end"), "y");
    }

    #[test]
    fn short_circuit_skips_errors() {
        assert_eq!(ok("#if(false && 1/0 == 1)x#{else}y#end"), "y");
    }

    #[test]
    fn foreach_state() {
        let source = "#foreach($x in ['a','b','c'])$foreach.index$foreach.count$velocityCount$x$foreach.first$foreach.last$foreach.hasNext #end";
        assert_eq!(
            ok(source),
            "011atruefalsetrue 122bfalsefalsetrue 233cfalsetruefalse "
        );
    }

    #[test]
    fn nested_loops_restore_outer_state() {
        let source = "#foreach($a in [1,2])#foreach($b in [3])$foreach.index:$foreach.parent.index #end$foreach.index$a #end[$a][$foreach]";
        assert_eq!(ok(source), "0:0 01 0:1 12 [][]");
        assert_eq!(ok("#set($x = 'kept')#foreach($x in [1])#end$x"), "kept");
    }

    #[test]
    fn foreach_over_maps_ranges_and_nulls() {
        assert_eq!(ok("#foreach($v in {'a': 1, 'b': 2})$v#end"), "12");
        assert_eq!(ok("#foreach($i in [3..1])$i#end"), "321");
        assert_eq!(ok("#set($n = 2)#foreach($i in [0..$n])$i#end"), "012");
        assert_eq!(ok("#foreach($i in $nothing)x#end#foreach($i in 'str')y#end"), "");
        assert_eq!(
            ok("#set($m = {'a': 1})#foreach($e in $m.entrySet())$e.key=$e.value $e.getKey()#end"),
            "a=1 a"
        );
    }

    #[test]
    fn foreach_over_input_path() {
        let request = with_body(r#"{"items":[{"n":1},{"n":2}]}"#);
        assert_eq!(
            ok_with("#foreach($i in $input.path('$.items'))$i.n#end", &request),
            "12"
        );
        assert_eq!(ok_with("$input.path('$.items[*].n').size()", &request), "2");
    }

    #[test]
    fn break_and_stop() {
        assert_eq!(ok("#foreach($i in [1..5])$i#if($i == 2)#break#end#end!"), "12!");
        assert_eq!(ok("a#foreach($i in [1..5])$i#if($i == 2)#stop#end#end!"), "a12");
        assert_eq!(ok("a#break b"), "a");
    }

    #[test]
    fn foreach_limit() {
        let e = err("x\n#foreach($i in [1..1001])#end");
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("limit of 1000"), "{e}");
        assert_eq!(ok("#foreach($i in [1..1000])#end#set($r = [1..1001])ok"), "ok");
    }

    #[test]
    fn arithmetic_and_comparison() {
        assert_eq!(ok("#set($x = 7 / 2 + 1.5 * 2 - 10 % 4)$x"), "4.0");
        assert_eq!(ok("#set($x = -(2 + 3))$x"), "-5");
        assert_eq!(ok("#if(1 == 1.0 && '5' == 5 && 'a' != 'b')y#end"), "y");
        assert_eq!(ok("#set($s = 'n=' + 1 + 2)$s"), "n=12");
    }

    #[test]
    fn runtime_errors_carry_positions() {
        let e = err("line\n  #set($x = 10 / 0)");
        assert_eq!(
            (e.line, e.column, e.message.as_str()),
            (2, 16, "division by zero")
        );

        let e = err("#set($s = 'abc')\n$s.foo()");
        assert_eq!((e.line, e.column), (2, 4));
        assert_eq!(e.message, "unknown method `foo` on a String");

        let e = err("$input.path('$.a[')");
        assert_eq!((e.line, e.column), (1, 8));
        assert!(e.message.starts_with("invalid JSONPath `$.a[`"), "{e}");

        let e = err("#set($s = 'abc')$s.replaceAll('(', '')");
        assert_eq!((e.line, e.column), (1, 20));
        assert!(e.message.starts_with("invalid regex `(`"), "{e}");

        let e = err("#set($l = [1])$l[3]");
        assert_eq!((e.line, e.column), (1, 17));

        let e = err("#set($x = [1..'a'])");
        assert_eq!((e.line, e.column), (1, 11));
        assert!(e.message.contains("range bounds"), "{e}");

        let e = err("#set($x = {$none: 1})");
        assert_eq!((e.line, e.column), (1, 12));

        let e = err("#set($x = 'a' - 1)");
        assert!(e.message.contains("cannot be applied"), "{e}");
    }

    #[test]
    fn invalid_json_body() {
        let e = err_with("x $input.json('$')", &with_body("{oops"));
        assert_eq!((e.line, e.column), (1, 10));
        assert!(e.message.contains("body is not valid JSON"), "{e}");
        // The raw body is still usable.
        assert_eq!(ok_with("$input.body", &with_body("{oops")), "{oops");
    }

    #[test]
    fn context_and_stage_variables() {
        let mut request = Request::default();
        request.context.stage = "prod".into();
        request.context.identity.user_agent = "curl".into();
        request.stage_variables = vec![("env".into(), "test".into())];
        assert_eq!(
            ok_with(
                "$context.stage $context.identity.userAgent $stageVariables.env $stageVariables['env'] ${stageVariables.env} ${stageVariables['env']}",
                &request
            ),
            "prod curl test test test test"
        );
    }

    #[test]
    fn escapes_in_text() {
        assert_eq!(ok(r"#set($x = 1)\$x \\$x \#if"), r"$x \1 #if");
        assert_eq!(ok(r#"{"a": "b\"c\n"}"#), r#"{"a": "b\"c\n"}"#);
    }

    #[test]
    fn whitespace_gobbling_example() {
        let source = "[\n#foreach($r in [1,2,3])\n  $r#if($foreach.hasNext),#end\n#end\n]";
        assert_eq!(ok(source), "[\n  1,\n  2,\n  3\n]");
    }
}
