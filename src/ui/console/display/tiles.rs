//! The picture under GTK's cairo renderer as a grid of render nodes, each kept from
//! frame to frame until its part of the remote screen changes.
//!
//! GTK redraws what differs between two frames' render nodes, and one cairo node of
//! the whole screen differs every frame: a blinking text cursor in the guest cost a
//! repaint (and an upload to the X server) of every pixel. With a node per tile, the
//! nodes of unchanged tiles are the very same objects in the next frame, so GTK's
//! damage is the changed tiles only, and the protocol's damage rectangles decide
//! which tiles those are. Each node draws straight from the image the screen is
//! decoded into (no copy), clipped to its tile. Only a picture shown 1:1 is tiled (see
//! `TILE`).

use gtk::prelude::*;
use gtk::{cairo, graphene, gsk};

/// Tile side, in remote-screen pixels: small enough that a typing guest repaints
/// little, big enough that a full-screen change stays a few dozen nodes (40 at
/// 1920x1080).
const TILE: i32 = 256;
/// Remote-screen pixels beyond a changed one that are redrawn with it (a filter reads
/// its neighbours).
const REACH: i32 = 1;
// Only a picture drawn 1:1 is cut into tiles: scaled, cairo's filter leaves the edges
// of each tile's node partly transparent, a visible grid of seams, so a scaled picture
// is one node (redrawn whole on any change, as a window of another size costs anyway).

/// What the cached nodes were drawn for; any change draws them all again.
struct Placement {
    image: cairo::ImageSurface,
    /// Where the image is drawn, in widget coordinates.
    rect: [u32; 4],
    scale_factor: i32,
}

impl PartialEq for Placement {
    fn eq(&self, other: &Self) -> bool {
        // The same image object (held, so its address is not reused meanwhile).
        self.image.to_raw_none() == other.image.to_raw_none()
            && self.rect == other.rect
            && self.scale_factor == other.scale_factor
    }
}

/// The tile nodes of one image drawn at one place.
#[derive(Default)]
pub struct Tiles {
    placement: Option<Placement>,
    /// The tile side for the current placement (the whole picture when scaled).
    tile: i32,
    columns: i32,
    rows: i32,
    /// Row by row; None: to draw at the next snapshot.
    nodes: Vec<Option<gsk::RenderNode>>,
}

impl Tiles {
    /// Forgets every node: the whole picture is drawn again.
    pub fn invalidate_all(&mut self) {
        self.placement = None;
        self.nodes.clear();
    }

    /// These remote-screen pixels changed: their tiles are drawn again.
    pub fn damage(&mut self, x: i32, y: i32, width: i32, height: i32) {
        if self.nodes.is_empty() || width <= 0 || height <= 0 {
            return;
        }
        let span = |start: i32, len: i32, count: i32| {
            let first = ((start - REACH).max(0) / self.tile).min(count - 1);
            let last = ((start + len - 1 + REACH).max(0) / self.tile).min(count - 1);
            first..=last
        };
        for row in span(y, height, self.rows) {
            for column in span(x, width, self.columns) {
                self.nodes[(row * self.columns + column) as usize] = None;
            }
        }
    }

    /// Appends the nodes showing `image` in `rect` (widget coordinates), drawing the
    /// tiles that changed since the last time.
    pub fn snapshot(
        &mut self,
        snapshot: &gtk::Snapshot,
        image: &cairo::ImageSurface,
        rect: &graphene::Rect,
        scale_factor: i32,
    ) {
        let (width, height) = (image.width(), image.height());
        if width <= 0 || height <= 0 {
            return;
        }
        let placement = Placement {
            image: image.clone(),
            rect: [rect.x(), rect.y(), rect.width(), rect.height()].map(f32::to_bits),
            scale_factor,
        };
        let device = scale_factor.max(1) as f64;
        let exact = (rect.width() as f64 * device - width as f64).abs() < 0.01;
        if self.placement.as_ref() != Some(&placement) {
            self.tile = if exact { TILE } else { width.max(height) };
            self.columns = (width + self.tile - 1) / self.tile;
            self.rows = (height + self.tile - 1) / self.tile;
            self.nodes = vec![None; (self.columns * self.rows) as usize];
            self.placement = Some(placement);
        }
        let (sx, sy) = (
            rect.width() as f64 / width as f64,
            rect.height() as f64 / height as f64,
        );
        // Tile edges on device pixels, shared by neighbours: no gaps, no overlaps.
        let tile = self.tile;
        let edge = |origin: f32, scale: f64, k: i32, len: i32| {
            ((origin as f64 + (k * tile).min(len) as f64 * scale) * device).round() / device
        };
        let filter = if exact {
            cairo::Filter::Nearest
        } else {
            cairo::Filter::Good
        };
        for row in 0..self.rows {
            let (y0, y1) = (
                edge(rect.y(), sy, row, height),
                edge(rect.y(), sy, row + 1, height),
            );
            for column in 0..self.columns {
                let (x0, x1) = (
                    edge(rect.x(), sx, column, width),
                    edge(rect.x(), sx, column + 1, width),
                );
                if x1 <= x0 || y1 <= y0 {
                    continue;
                }
                let slot = &mut self.nodes[(row * self.columns + column) as usize];
                let node = slot.get_or_insert_with(|| {
                    let bounds = graphene::Rect::new(
                        x0 as f32,
                        y0 as f32,
                        (x1 - x0) as f32,
                        (y1 - y0) as f32,
                    );
                    let node = gsk::CairoNode::new(&bounds);
                    // The context is clipped to the node's bounds.
                    let cr = node.draw_context();
                    cr.translate(rect.x() as f64, rect.y() as f64);
                    cr.scale(sx, sy);
                    if cr.set_source_surface(image, 0.0, 0.0).is_ok() {
                        cr.source().set_filter(filter);
                        cr.set_operator(cairo::Operator::Source);
                        let _ = cr.paint();
                    }
                    node.upcast()
                });
                snapshot.append_node(&*node);
            }
        }
    }
}
