//! The picture under GTK's cairo renderer as a grid of render nodes, each kept from
//! frame to frame until its part of the remote screen changes.
//!
//! GTK redraws what differs between two frames' render nodes, and one cairo node of
//! the whole screen differs every frame: a blinking text cursor in the guest cost a
//! repaint (and an upload to the X server) of every pixel. With a node per tile, the
//! nodes of unchanged tiles are the very same objects in the next frame, so GTK's
//! damage is the changed tiles only, and the protocol's damage rectangles decide
//! which tiles those are. Each node draws straight from the image the screen is
//! decoded into (no copy), clipped to its tile.

use gtk::prelude::*;
use gtk::{cairo, graphene, gsk};

/// Tile side, in remote-screen pixels: small enough that a typing guest repaints
/// little, big enough that a full-screen change stays a few dozen nodes (40 at
/// 1920x1080).
const TILE: i32 = 256;

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
    columns: i32,
    rows: i32,
    /// Row by row; None: to draw at the next snapshot.
    nodes: Vec<Option<gsk::RenderNode>>,
    /// Remote-screen pixels a changed pixel reaches on screen through the scaling
    /// filter (beyond its own).
    reach: i32,
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
            let first = ((start - self.reach).max(0) / TILE).min(count - 1);
            let last = ((start + len - 1 + self.reach).max(0) / TILE).min(count - 1);
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
        if self.placement.as_ref() != Some(&placement) {
            self.columns = (width + TILE - 1) / TILE;
            self.rows = (height + TILE - 1) / TILE;
            self.nodes = vec![None; (self.columns * self.rows) as usize];
            // Scaled down, one screen pixel averages 1/scale remote pixels (and the
            // filter a neighbour); scaled up, a remote pixel bleeds into the next.
            let scale = rect.width() as f64 * scale_factor as f64 / width as f64;
            self.reach = (1.0 / scale).ceil() as i32 + 1;
            self.placement = Some(placement);
        }
        let device = scale_factor.max(1) as f64;
        let (sx, sy) = (
            rect.width() as f64 / width as f64,
            rect.height() as f64 / height as f64,
        );
        // Tile edges on device pixels, shared by neighbours: no seams, no overlaps.
        let edge = |origin: f32, scale: f64, k: i32, len: i32| {
            ((origin as f64 + (k * TILE).min(len) as f64 * scale) * device).round() / device
        };
        let exact = (rect.width() as f64 * device - width as f64).abs() < 0.01;
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
