//! The syntax tree produced by the parser and walked by the renderer.
//!
//! The tree holds plain data only (no `Rc`), so a parsed [`crate::Template`] is `Send + Sync`
//! and can be shared between request handlers.

use crate::cursor::Pos;

/// A sequence of nodes rendered one after another.
pub(crate) type Block = Vec<Node>;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// Literal output.
    Text(String),
    /// `$a.b(...)[i]`, `${...}` or `$!...`, rendered with its Java `toString`.
    Reference(Reference),
    /// `#set($target = value)`.
    Set { target: SetTarget, value: Expr },
    /// `#if … #elseif … #else … #end`.
    If {
        branches: Vec<Branch>,
        otherwise: Option<Block>,
    },
    /// `#foreach($variable in iterable) body #end`.
    Foreach {
        variable: String,
        iterable: Expr,
        body: Block,
        pos: Pos,
    },
    /// `#break`: leaves the innermost `#foreach` (or the template when outside one).
    Break,
    /// `#stop`: ends rendering, keeping the output so far.
    Stop,
}

#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub(crate) condition: Expr,
    pub(crate) body: Block,
}

/// `$name` followed by property, method and index segments.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub(crate) name: String,
    pub(crate) segments: Vec<Segment>,
}

#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// `.name`; `pos` is the name (used when `#set` assigns through it).
    Property { name: String, pos: Pos },
    /// `.name(args)`; `pos` is the method name, where call errors are reported.
    Method { name: String, args: Vec<Expr>, pos: Pos },
    /// `[key]`
    Index { key: Expr, pos: Pos },
}

/// The left-hand side of `#set`: a variable, or a map key / list slot reached through one.
#[derive(Debug, Clone)]
pub(crate) struct SetTarget {
    pub(crate) name: String,
    /// Segments leading to the container being assigned into.
    pub(crate) path: Vec<Segment>,
    /// The slot inside that container; `None` assigns the variable itself.
    pub(crate) slot: Option<Slot>,
}

#[derive(Debug, Clone)]
pub(crate) enum Slot {
    /// `#set($map.key = …)`
    Property { name: String, pos: Pos },
    /// `#set($x[key] = …)`
    Index { key: Expr, pos: Pos },
}

#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub(crate) kind: ExprKind,
    /// Where errors evaluating this expression are reported (the operator for binary ones).
    pub(crate) pos: Pos,
}

#[derive(Debug, Clone)]
pub(crate) enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string literal without anything to interpolate.
    Str(String),
    /// A double-quoted string containing references or directives.
    Interpolated(Block),
    List(Vec<Expr>),
    /// `[from..to]`, inclusive, counting down when `from > to`.
    Range(Box<Expr>, Box<Expr>),
    Map(Vec<(Expr, Expr)>),
    Reference(Reference),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    /// The operator as written in templates, for error messages.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}
