#version 330
// One instanced quad per Gaussian, covering its support ellipse's bounding box (pixels, y down).
uniform vec2 u_size;  // width, height in pixels

in vec2 in_corner;    // (-1, -1) .. (1, 1)
in vec2 in_center;    // pixels
in vec2 in_extent;    // half sizes in pixels
in vec3 in_conic;     // inverse 2D covariance (a, b, c)
in vec4 in_color;     // rgb, opacity
in float in_depth;

out vec2 v_pixel;
flat out vec2 v_center;
flat out vec3 v_conic;
flat out vec4 v_color;
flat out float v_depth;

void main() {
    v_pixel = in_center + in_corner * in_extent;
    v_center = in_center;
    v_conic = in_conic;
    v_color = in_color;
    v_depth = in_depth;
    gl_Position = vec4(2.0 * v_pixel.x / u_size.x - 1.0, 1.0 - 2.0 * v_pixel.y / u_size.y, 0.0, 1.0);
}
