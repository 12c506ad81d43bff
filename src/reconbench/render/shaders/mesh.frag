#version 330
// One pass, two targets: colour (RGBA) and geometry (world normal xyz, camera z-depth).
uniform sampler2D u_texture;
uniform bool u_has_texture;
uniform vec4 u_base_color;
uniform vec3 u_camera_position;
uniform vec4 u_intrinsics;  // fx, fy, cx, cy (pixels, image y down)
uniform float u_height;
uniform bool u_lambert;
uniform float u_ambient;
uniform float u_diffuse;
uniform vec3 u_light_world;

in vec3 v_world;
in vec3 v_camera;
in vec2 v_uv;
in vec4 v_color;

layout(location = 0) out vec4 f_color;
layout(location = 1) out vec4 f_geometry;

void main() {
    // Exact flat triangle normal from screen-space derivatives of the world position,
    // turned toward the camera; the winding then says whether it points outward.
    vec3 n_view = normalize(cross(dFdx(v_world), dFdy(v_world)));
    if (dot(n_view, u_camera_position - v_world) < 0.0) n_view = -n_view;
    vec3 n_outward = gl_FrontFacing ? n_view : -n_view;

    // Depth where the exact pixel-centre ray meets the triangle's plane. Interpolated depth is
    // evaluated at vertex positions snapped to the rasteriser's sub-pixel grid, which is off by
    // up to 1e-3 of the object size on surfaces seen at grazing angles; the plane is not.
    vec3 ray = vec3((gl_FragCoord.x - u_intrinsics.z) / u_intrinsics.x,
                    -((u_height - gl_FragCoord.y) - u_intrinsics.w) / u_intrinsics.y, -1.0);
    vec3 n_camera = cross(dFdx(v_camera), dFdy(v_camera));
    float denom = dot(n_camera, ray);
    float depth = -v_camera.z;
    if (abs(denom) > 1e-6 * length(n_camera)) {
        float exact = dot(n_camera, v_camera) / denom;
        if (abs(exact - depth) < 0.01 * depth) depth = exact;
    }

    vec4 color = u_base_color * v_color;
    if (u_has_texture) color *= texture(u_texture, vec2(v_uv.x, 1.0 - v_uv.y));
    float shade = u_lambert ? u_ambient + u_diffuse * max(dot(n_view, u_light_world), 0.0) : 1.0;

    f_color = vec4(clamp(color.rgb * shade, 0.0, 1.0), 1.0);
    f_geometry = vec4(n_outward, depth);
}
